import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A loopback HTTP server whose answers a test scripts, for faults the sandbox cannot produce on
/// demand. Records every request it receives.
final class ScriptedServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    enum Reply: Sendable {
        case respond(Int, headers: [(String, String)] = [], body: String = "")
        /// Close the connection without answering.
        case drop
        /// Answer after a delay (to provoke client timeouts).
        case delayed(Double, Int, body: String)
    }

    typealias Handler = @Sendable (Request) -> Reply

    private let channel: Channel
    private let recorded = NIOLockedValueBox<[Request]>([])
    let port: Int

    init(_ handler: @escaping Handler) async throws {
        let box = recorded
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(ScriptedHandler(handler: handler, record: { request in box.withLockedValue { $0.append(request) } }))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { recorded.withLockedValue { $0 } }

    func stop() async { try? await channel.close() }
}

private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: ScriptedServer.Handler
    let record: @Sendable (ScriptedServer.Request) -> Void
    var head: HTTPRequestHead?
    var body = ""

    init(handler: @escaping ScriptedServer.Handler, record: @escaping @Sendable (ScriptedServer.Request) -> Void) {
        self.handler = handler
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
        case .body(var buffer):
            body += buffer.readString(length: buffer.readableBytes) ?? ""
        case .end:
            guard let head else { return }
            let request = ScriptedServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            record(request)
            switch handler(request) {
            case .drop:
                context.close(promise: nil)
            case .respond(let status, let headers, let body):
                write(context: context, status: status, headers: headers, body: body)
            case .delayed(let seconds, let status, let body):
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
                    let (handler, context) = loopBound.value
                    handler.write(context: context, status: status, headers: [], body: body)
                }
            }
        }
    }

    func write(context: ChannelHandlerContext, status: Int, headers: [(String, String)], body: String) {
        var responseHeaders = HTTPHeaders(headers)
        responseHeaders.add(name: "Content-Length", value: String(body.utf8.count))
        if !body.isEmpty, !responseHeaders.contains(name: "Content-Type") {
            responseHeaders.add(name: "Content-Type", value: "application/json")
        }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: responseHeaders)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
