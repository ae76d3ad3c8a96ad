import Foundation
@testable import RuncrateSandbox
#if canImport(Glibc)
import Glibc
#endif

/// A raw HTTP/1.1 exchange over a socket: sees exactly what the sandbox sent, including cut bodies
/// and dropped connections. Runs on its own thread so the server's tasks are never starved.
struct HTTPReply: Sendable {
    var status: Int           // 0 when the connection closed before a status line
    var headers: [String: String]
    var body: String
    var rawBodyBytes: Int

    var json: JSON? { try? JSON.parse(body) }
    var data: JSON? { json?["data"] }
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
    var errorMessage: String? { json?["error"]?["message"]?.stringValue }
    var errorField: String? { json?["error"]?["details"]?["field"]?.stringValue }
}

let testKey = "rc_live_test_0123456789"

func http(_ server: SandboxServer, _ method: String, _ path: String, body: String? = nil,
          key: String? = testKey, rawRequest: String? = nil) async -> HTTPReply {
    await http(port: server.port, method, path, body: body, key: key, rawRequest: rawRequest)
}

func http(port: Int, _ method: String, _ path: String, body: String? = nil,
          key: String? = testKey, rawRequest: String? = nil) async -> HTTPReply {
    await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(returning: exchange(port: port, method: method, path: path, body: body, key: key, rawRequest: rawRequest))
        }.start()
    }
}

private func exchange(port: Int, method: String, path: String, body: String?, key: String?, rawRequest: String?) -> HTTPReply {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0)
    defer { close(fd) }
    var tv = timeval(tv_sec: 20, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    precondition(ok == 0, "connect failed")
    var request: String
    if let rawRequest {
        request = rawRequest
    } else {
        request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let key { request += "Authorization: Bearer \(key)\r\n" }
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
    }
    let bytes = Array(request.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { break }
        sent += n
    }
    var received = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        received += buffer[0..<n]
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return HTTPReply(status: 0, headers: [:], body: text, rawBodyBytes: 0) }
    let head = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    var headers: [String: String] = [:]
    for line in head.dropFirst() {
        if let colon = line.firstIndex(of: ":") {
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    let bodyText = String(text[split.upperBound...])
    return HTTPReply(status: status, headers: headers, body: bodyText, rawBodyBytes: bodyText.utf8.count)
}

/// A sandbox for one test: slow to become ready (tests move the clock), stopped afterwards.
func withSandbox<T>(_ options: SandboxOptions = SandboxOptions(readyAfter: 60), _ body: (SandboxServer) async throws -> T) async throws -> T {
    let server = try await SandboxServer.start(options)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

extension JSON {
    subscript(index: Int) -> JSON? { arrayValue.flatMap { index < $0.count ? $0[index] : nil } }
    var count: Int { arrayValue?.count ?? 0 }
}
