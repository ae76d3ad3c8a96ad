import Foundation
import RuncrateAPI

/// `--verbose`: one line per call that is sent — method, path, query, body with secrets as `***` —
/// then its outcome and time, under which the client adds its retries and reconciliation. Wraps the
/// transport that reaches the API, so a dry run logs its reads and nothing it only plans.
final class LoggedTransport: RuncrateTransport {
    private let base: RuncrateTransport
    private let write: (String) -> Void
    private let redact: (String) -> String

    init(_ base: RuncrateTransport, write: @escaping (String) -> Void, redact: @escaping (String) -> String) {
        self.base = base
        self.write = write
        self.redact = redact
    }

    func send<Response: Sendable>(_ request: PreparedRequest<Response>) throws(RuncrateError) -> Response {
        try logged(request) { () throws(RuncrateError) in try base.send(request) }
    }

    func createInstance(_ prepared: PreparedCreateInstance, failover: Bool) throws(RuncrateError) -> Instance {
        try logged(Endpoint.createInstance(prepared)) { () throws(RuncrateError) in
            try base.createInstance(prepared, failover: failover)
        }
    }

    private func logged<R, T>(_ request: PreparedRequest<R>, _ body: () throws(RuncrateError) -> T) throws(RuncrateError) -> T {
        let start = RuncrateModule.monotonic()
        var line = "runcrate: \(request.method) /api/v1\(request.path)"
        if !request.query.isEmpty {
            line += "?" + request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        }
        if let body = request.redactedBody { line += " " + body.serialized }
        write(redact(line) + "\n")
        do {
            let result = try body()
            write(String(format: "runcrate:   ok in %.0f ms\n", (RuncrateModule.monotonic() - start) * 1000))
            return result
        } catch {
            write(redact(String(format: "runcrate:   %@ in %.0f ms\n", error.description, (RuncrateModule.monotonic() - start) * 1000)))
            throw error
        }
    }
}
