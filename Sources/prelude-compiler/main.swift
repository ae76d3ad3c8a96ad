#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import CLua

// prelude-compiler OUTPUT.swift PART.lua...: compiles the prelude's parts, joined in the order given,
// as one chunk "=runcrate" with the Lua this package links, and writes it, base64, as
// `Prelude.bytecodeBase64` (debug info kept, so `debug.getinfo` works as with the source). Run by
// the EmbedPrelude plugin.

func fail(_ message: String) -> Never {
    let line = Array("prelude-compiler: \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: prelude-compiler OUTPUT.swift PART.lua...") }
let outputPath = arguments[1]

/// The whole file at `path`.
func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

// The parts share one chunk (and so its locals), each on lines of its own.
var source: [UInt8] = []
for part in arguments.dropFirst(2) {
    var text = readFile(part)
    if text.last != UInt8(ascii: "\n") { text.append(UInt8(ascii: "\n")) }
    source += text
}

guard let L = luaL_newstate() else { fail("cannot create a Lua state") }
let status = source.withUnsafeBufferPointer { buffer in
    buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
        luaL_loadbufferx(L, $0, buffer.count, "=runcrate", "t")
    }
}
guard status == LUA_OK else { fail(String(cString: lua_tolstring(L, -1, nil))) }

final class Sink { var bytes: [UInt8] = [] }
let sink = Sink()
let dumped = lua_dump(L, { _, data, size, ud in
    guard let data, let ud else { return 0 }
    let sink = Unmanaged<Sink>.fromOpaque(ud).takeUnretainedValue()
    sink.bytes += UnsafeRawBufferPointer(start: data, count: size)
    return 0
}, Unmanaged.passUnretained(sink).toOpaque(), 0)
guard dumped == 0 else { fail("lua_dump failed (\(dumped))") }
lua_close(L)

/// Standard base64 with padding.
func base64(_ bytes: [UInt8]) -> String {
    let digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i])
        let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let n = b0 << 16 | b1 << 8 | b2
        out.append(digits[Int(n >> 18 & 63)])
        out.append(digits[Int(n >> 12 & 63)])
        out.append(i + 1 < bytes.count ? digits[Int(n >> 6 & 63)] : UInt8(ascii: "="))
        out.append(i + 2 < bytes.count ? digits[Int(n & 63)] : UInt8(ascii: "="))
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

let swift = """
    // Generated at build time by the EmbedPrelude plugin (prelude-compiler) from Prelude/*.lua.
    enum Prelude {
        /// Prelude/*.lua, joined, compiled as "=runcrate" by the Lua this package links, base64.
        static let bytecodeBase64 = "\(base64(sink.bytes))"
    }

    """
guard let out = fopen(outputPath, "wb") else { fail("cannot write \(outputPath): \(String(cString: strerror(errno)))") }
let text = Array(swift.utf8)
guard fwrite(text, 1, text.count, out) == text.count, fclose(out) == 0 else { fail("cannot write \(outputPath)") }
