import Foundation
import LuaBridge

/// `native.sleep(s)`, in slices so Ctrl-C and the time limit stop it promptly.
extension RuncrateModule {
    /// `native.sleep(s)`: sleeps in short slices so Ctrl-C and the time limit stop it promptly.
    func nativeSleep(_ L: LuaState) -> Int32 {
        let seconds = max(0, L.tonumber(1) ?? 0)
        let end = Self.monotonic() + seconds
        while true {
            if L.interruptPending {
                L.consumeInterrupt()
                L.push(false)
                pushErrorInfo(ErrorInfo(code: "interrupted", message: "interrupted by Ctrl-C"), L)
                return 2
            }
            if L.stopRequested() { break }
            let now = Self.monotonic()
            if now >= end { break }
            let slice = min(end - now, 0.05)
            usleep(UInt32(slice * 1_000_000))
        }
        L.push(true)
        return 1
    }
}
