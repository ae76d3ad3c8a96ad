import Foundation
import Hummingbird
import NIOCore

/// Request context that keeps the connection, so faults can drop it.
struct SandboxContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Dispatches every request: control endpoints, then auth, faults and the API handlers.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxContext
    let core: SandboxCore

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = Date()
        let (requestID, now) = core.locked { inner -> (String, Date) in
            inner.requestCounter += 1
            let n = String(inner.requestCounter)
            return ("req_" + String(repeating: "0", count: max(0, 8 - n.count)) + n, inner.now())
        }
        let path = request.uri.path
        let rawQuery = request.uri.query
        var record = SandboxRequestRecord(
            time: iso8601(now), requestID: requestID, method: request.method.rawValue, path: path,
            query: rawQuery.map(Redact.keys), route: nil, status: 0,
            authorization: Redact.authorization(request.headers[.authorization]), body: nil, fault: nil, latencyMs: nil)

        // Body, with a size limit. An oversized body is read to its end (up to a cap) before the
        // 413, so the client sees the answer instead of a reset connection.
        var body: [UInt8] = []
        var tooLarge = false
        do {
            var total = 0
            for try await chunk in request.body {
                total += chunk.readableBytes
                if total > core.options.maxBodyBytes {
                    tooLarge = true
                    body = []
                    if total > core.options.maxBodyBytes * 64 { break }
                } else {
                    body += chunk.readableBytesView
                }
            }
        } catch {
            tooLarge = true
        }
        if tooLarge {
            let e = APIError(status: 413, code: "payload_too_large",
                             message: "Request body larger than \(core.options.maxBodyBytes) bytes")
            return finish(e.result, record: &record, requestID: requestID, started: started, closeConnection: true)
        }
        if !body.isEmpty { record.body = Redact.keys(String(decoding: body.prefix(4096), as: UTF8.self)) }

        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            .map { String($0).removingPercentEncoding ?? String($0) }
        let query = parseQuery(rawQuery)

        if segments.first == "_sandbox" {
            record.route = "_sandbox"
            let result = control(Array(segments.dropFirst()), method: request.method.rawValue, body: body, query: query, requestID: requestID)
            return finish(result, record: &record, requestID: requestID, started: started)
        }
        guard segments.count >= 2, segments[0] == "api", segments[1] == "v1" else {
            return finish(APIError.notFound("No such path: \(path) (the API lives under /api/v1)").result,
                          record: &record, requestID: requestID, started: started)
        }
        var apiSegments = Array(segments.dropFirst(2))
        if apiSegments.last == "" { apiSegments.removeLast() }
        let route: Route
        let params: [String]
        switch Route.match(method: request.method.rawValue, segments: apiSegments) {
        case .notFound:
            return finish(APIError.notFound("No such endpoint: \(request.method.rawValue) \(path)").result,
                          record: &record, requestID: requestID, started: started)
        case .wrongMethod(let allowed):
            var e = APIError(status: 405, code: "method_not_allowed",
                             message: "\(request.method.rawValue) is not allowed on \(path); use \(allowed.joined(separator: ", "))")
            e.headers = [("Allow", allowed.joined(separator: ", "))]
            return finish(e.result, record: &record, requestID: requestID, started: started)
        case let .found(r, p):
            route = r
            params = p
        }
        record.route = route.name

        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer rc_live_"), auth.count > "Bearer rc_live_".count else {
            return finish(APIError.unauthorized.result, record: &record, requestID: requestID, started: started)
        }

        let decision = core.locked { $0.faults.decide(route: route.name) }
        if decision.latency > 0 {
            record.latencyMs = Int(decision.latency * 1000)
            try? await Task.sleep(nanoseconds: UInt64(decision.latency * 1e9))
        }
        let fault = decision.rule
        record.fault = fault?.text

        // Faults that answer before anything is done.
        if let fault {
            switch fault.action {
            case .status(let status):
                return finish(faultError(fault, status: status).result, record: &record, requestID: requestID, started: started)
            case .drop:
                throw dropConnection(record: &record, context: context)
            default: break
            }
        }

        let input = RequestInput(route: route, params: params, query: query, rawBody: body, requestID: requestID,
                                 now: core.locked { $0.now() }, readyAfter: core.options.readyAfter)
        let result: APIResult = core.locked { inner in
            if route.name == "instances.types" {
                let key = rawQuery ?? ""
                if let cached = inner.typesCache[key] {
                    return APIResult(status: 200, body: nil, rawBody: Self.listBody(cached.data, count: cached.count, requestID: requestID))
                }
                if let result = try? inner.state.handle(input).0, result.status == 200, let data = result.body?["data"] {
                    let serialized = data.serialized(), count = data.arrayValue?.count ?? 0
                    inner.typesCache[key] = (serialized, count)
                    return APIResult(status: 200, body: nil, rawBody: Self.listBody(serialized, count: count, requestID: requestID))
                }
            }
            do {
                let (result, changed) = try inner.state.handle(input)
                if changed { try? core.persist(inner.state) }
                return result
            } catch let e as APIError {
                return e.result
            } catch {
                return APIError(status: 500, code: "internal_error", message: "\(error)").result
            }
        }

        guard let fault else { return finish(result, record: &record, requestID: requestID, started: started) }
        switch fault.action {
        case .commitThenStatus(let status):
            return finish(faultError(fault, status: status).result, record: &record, requestID: requestID, started: started)
        case .commitThenDrop:
            throw dropConnection(record: &record, context: context)
        case .garbage(let status):
            record.status = status
            finishRecord(&record, started: started)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[FieldName("X-Request-Id")!] = requestID
            let text = "<html><body><h1>\(status)</h1>upstream sent {\"data\": {\"id\": \u{7f}\u{1}"
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        case .truncate:
            var full = render(result, requestID: requestID)
            record.status = result.status
            finishRecord(&record, started: started)
            let bytes = ByteBuffer(string: result.rawBody ?? result.body?.serialized() ?? "")
            let half = bytes.getSlice(at: 0, length: bytes.readableBytes / 2) ?? ByteBuffer()
            let channel = context.channel
            full.headers[.contentLength] = String(bytes.readableBytes)
            full.body = ResponseBody(contentLength: bytes.readableBytes) { writer in
                try await writer.write(half)
                try await channel.close()
                throw SandboxDropped()
            }
            return full
        default:
            return finish(result, record: &record, requestID: requestID, started: started)
        }
    }

    /// A list envelope (as `APIResult.list` writes it) around already serialised data.
    static func listBody(_ data: String, count: Int, requestID: String) -> String {
        #"{"data":"# + data + #","meta":{"cursor":null,"hasMore":false,"total":"# + String(count)
            + #","requestId":""# + requestID + #""}}"#
    }

    private func faultError(_ rule: FaultRule, status: Int) -> APIError {
        var e = APIError.forStatus(status, code: rule.code, message: rule.message)
        var seconds = 1.0
        if let r = rule.retryAfter {
            if r.hasPrefix("date+"), let ahead = Double(r.dropFirst(5)) {
                seconds = ahead
                e.headers.append(("Retry-After", httpDate(Date().addingTimeInterval(ahead))))
            } else {
                seconds = Double(r) ?? 1
                e.headers.append(("Retry-After", r))
            }
        }
        if status == 429 {
            let reset = Int(Date().timeIntervalSince1970 + seconds.rounded(.up))
            e.headers += [("X-RateLimit-Limit", "60"), ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", String(reset))]
        }
        return e
    }

    /// Logs the request as answered by a dropped connection (status 0) and closes it; the caller throws the result.
    private func dropConnection(record: inout SandboxRequestRecord, context: Context) -> SandboxDropped {
        record.status = 0
        core.record(record)
        context.channel.close(promise: nil)
        return SandboxDropped()
    }

    private func finishRecord(_ record: inout SandboxRequestRecord, started: Date) {
        core.record(record)
    }

    private func finish(_ result: APIResult, record: inout SandboxRequestRecord, requestID: String, started: Date,
                        closeConnection: Bool = false) -> Response {
        record.status = result.status
        core.record(record)
        var response = render(result, requestID: requestID)
        if closeConnection { response.headers[.connection] = "close" }
        return response
    }

    private func render(_ result: APIResult, requestID: String) -> Response {
        var headers = HTTPFields()
        headers[FieldName("X-Request-Id")!] = requestID
        for (name, value) in result.headers {
            if let n = FieldName(name) { headers[n] = value }
        }
        guard let text = result.rawBody ?? result.body?.serialized() else {
            return Response(status: .init(code: result.status), headers: headers)
        }
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .init(code: result.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private func parseQuery(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for part in query.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if out[kv[0]] == nil { out[kv[0]] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }
}

/// An IMF-fixdate, as `Retry-After` carries it: `Sun, 06 Nov 1994 08:49:37 GMT`.
func httpDate(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    return formatter.string(from: date)
}

typealias FieldName = HTTPFields.Element.Name

/// Thrown after a fault closed the connection on purpose.
struct SandboxDropped: Error {}
