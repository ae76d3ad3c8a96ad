import RuncrateAPI

/// Sends prepared requests and blocks the calling (Lua) thread until the answer. `RuncrateClient`
/// conforms; tests may pass anything that talks to a sandbox.
public protocol RuncrateTransport: AnyObject {
    func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response
    /// Creates with the client's duplicate-launch protection (reconciliation after ambiguous failures).
    /// `failover` is set for `launch` attempts: a sold-out answer should fail at once, not be waited out.
    func createInstance(_ prepared: PreparedCreateInstance, failover: Bool) throws(RuncrateError) -> Instance
}
