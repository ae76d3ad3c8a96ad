import Foundation
import LuaBridge

/// `native.sleep(s)`, in slices so Ctrl-C and the time limit stop it promptly.
extension RuncrateModule {
    /// `native.sleep(s)`: sleeps in short slices so Ctrl-C and the time limit stop it promptly.
    func nativeSleep(_ L: LuaState) -> Int32 {
        let seconds = max(0, L.tonumber(1) ?? 0)
        let end = Self.monotonic() + seconds
        while true {
            let S = L.limits
            if S.pointee.interrupted != 0 {
                L.consumeInterrupt()
                L.push(false)
                pushErrorInfo(ErrorInfo(code: "interrupted", message: "interrupted by Ctrl-C"), L)
                return 2
            }
            let now = Self.monotonic()
            if S.pointee.deadline > 0 && now >= S.pointee.deadline {
                L.triggerHookSoon()
                break
            }
            if now >= end { break }
            let slice = min(end - now, 0.05)
            usleep(UInt32(slice * 1_000_000))
        }
        L.push(true)
        return 1
    }
}
