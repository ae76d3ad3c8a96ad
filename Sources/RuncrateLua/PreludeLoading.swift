import CLua
import LuaBridge

extension Prelude {
    /// The prelude's chunk name (error positions inside it read `runcrate:LINE:`).
    static let chunkName = "=runcrate"

    /// Pushes the prelude as a function, from the bytecode the EmbedPrelude plugin made with this
    /// package's Lua at build time (compiling the source at start took a third of `runcrate-lua -e ''`).
    /// Stack: +1 on success, 0 on error.
    static func load(into L: LuaState) throws(LuaError) {
        guard let bytes = bytecode else { throw LuaError(kind: .runtime, message: "runcrate: the embedded prelude is damaged") }
        try L.load(bytes: bytes, name: chunkName, mode: "b")
    }

    /// `bytecodeBase64` decoded; nil if it is not base64.
    static var bytecode: [UInt8]? { decodeBase64(bytecodeBase64) }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        var text = text
        // Over the contiguous UTF-8 with a lookup table: iterating `String.utf8` byte by byte took
        // a quarter of a millisecond for the 42 KB of the prelude.
        return text.withUTF8 { input -> [UInt8]? in
            var length = input.count
            while length > 0, input[length - 1] == UInt8(ascii: "=") { length -= 1 }
            var failed = false
            let table = base64Values
            let output = [UInt8](unsafeUninitializedCapacity: length / 4 * 3 + 3) { buffer, count in
                var accumulator: UInt32 = 0
                var bits = 0
                var written = 0
                for i in 0..<length {
                    let value = table[Int(input[i])]
                    if value == 0xFF { failed = true; break }
                    accumulator = (accumulator << 6) | UInt32(value)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        buffer[written] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                        written += 1
                    }
                }
                count = written
            }
            return failed ? nil : output
        }
    }

    /// The value of each base64 digit, 0xFF for bytes that are not one.
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, digit) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(digit)] = UInt8(value)
        }
        return table
    }()
}
