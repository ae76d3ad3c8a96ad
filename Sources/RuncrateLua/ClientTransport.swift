import Foundation
import RuncrateAPI

/// The `RuncrateClient` used from the Lua thread: every call blocks that thread (never a Swift task).
public final class BlockingClientTransport: RuncrateTransport {
    public let client: RuncrateClient
    /// Used for `launch` attempts: a sold-out answer asking to wait (503 with `Retry-After`) fails at
    /// once, so `launch` moves on to the next candidate instead of sleeping.
    public let failoverClient: RuncrateClient
    private let isCancelled: (@Sendable () -> Bool)?
    /// Whatever must live as long as the client (the in-process sandbox server).
    public let keepAlive: AnyObject?

    /// `isCancelled` is polled while a call is in flight (e.g. a Ctrl-C flag); true cancels it.
    public init(client: RuncrateClient, failoverClient: RuncrateClient? = nil,
                isCancelled: (@Sendable () -> Bool)? = nil, keepAlive: AnyObject? = nil) {
        self.client = client
        self.failoverClient = failoverClient ?? client
        self.isCancelled = isCancelled
        self.keepAlive = keepAlive
    }

    /// Makes both clients from one configuration (the failover one honours no server-requested waits).
    public convenience init(configuration: RuncrateConfiguration, hooks: ClientHooks = ClientHooks(),
                            isCancelled: (@Sendable () -> Bool)? = nil, keepAlive: AnyObject? = nil) {
        var failover = configuration
        failover.retry.maxServerWait = 0
        self.init(client: RuncrateClient(configuration: configuration, hooks: hooks),
                  failoverClient: RuncrateClient(configuration: failover, hooks: hooks),
                  isCancelled: isCancelled, keepAlive: keepAlive)
    }

    public func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response {
        try Self.mapped { [client, isCancelled] in
            try client.runBlocking(isCancelled: isCancelled) { try await $0.send(request) }
        }
    }

    public func createInstance(_ prepared: PreparedCreateInstance, failover: Bool) throws(RuncrateError) -> Instance {
        let chosen = failover ? failoverClient : client
        return try Self.mapped { [isCancelled] in
            try chosen.runBlocking(isCancelled: isCancelled) { try await $0.createInstance(prepared) }
        }
    }

    private static func mapped<T>(_ body: () throws -> T) throws(RuncrateError) -> T {
        do { return try body() } catch let error as RuncrateError { throw error } catch {
            throw RuncrateError(code: .networkError, message: "\(error)")
        }
    }
}
