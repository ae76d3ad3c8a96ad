import Foundation
import RuncrateAPI

/// The `RuncrateClient` used from the Lua thread: every call blocks that thread (never a Swift task).
public final class BlockingClientTransport: RuncrateTransport {
    public let client: RuncrateClient
    private let isCancelled: (@Sendable () -> Bool)?
    /// Whatever must live as long as the client (the in-process sandbox server).
    public let keepAlive: AnyObject?

    /// `isCancelled` is polled while a call is in flight (e.g. a Ctrl-C flag); true cancels it.
    public init(client: RuncrateClient, isCancelled: (@Sendable () -> Bool)? = nil, keepAlive: AnyObject? = nil) {
        self.client = client
        self.isCancelled = isCancelled
        self.keepAlive = keepAlive
    }

    public func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response {
        try Self.mapped { [client, isCancelled] in
            try client.runBlocking(isCancelled: isCancelled) { try await $0.send(request) }
        }
    }

    public func createInstance(_ prepared: PreparedCreateInstance) throws(RuncrateError) -> Instance {
        try Self.mapped { [client, isCancelled] in
            try client.runBlocking(isCancelled: isCancelled) { try await $0.createInstance(prepared) }
        }
    }

    private static func mapped<T>(_ body: () throws -> T) throws(RuncrateError) -> T {
        do { return try body() } catch let error as RuncrateError { throw error } catch {
            throw RuncrateError(code: .networkError, message: "\(error)")
        }
    }

    deinit { try? client.shutdownBlocking() }
}
