import CLua
import LuaBridge

extension Prelude {
    /// Pushes the compiled prelude as a function: the embedded bytecode when it was made by the Lua
    /// release whose headers this module was built with (and Lua accepts it), else the source,
    /// compiled here. Compiling the source took about a third of `runcrate-lua -e ''`.
    /// Stack: +1 on success, 0 on error.
    static func load(into L: LuaState) throws(LuaError) {
        if bytecodeRelease == CLUA_VERSION_RELEASE_NUM, let bytes = bytecode,
           (try? L.load(bytes: bytes, name: "=runcrate", mode: "b")) != nil {
            return
        }
        try L.load(source, name: "=runcrate")
    }

    /// `bytecodeBase64` decoded; nil if it is not base64.
    static var bytecode: [UInt8]? { decodeBase64(bytecodeBase64) }

    static func decodeBase64(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        loop: for c in text.utf8 {
            let value: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): break loop
            default: return nil
            }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
