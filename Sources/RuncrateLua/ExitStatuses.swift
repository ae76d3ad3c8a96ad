import CLuaShim
import LuaBridge

/// Exit statuses the runner uses for the module's own failures (others are lua's: 0 and 1).
public enum RuncrateExitStatus {
    /// A create would have crossed `--max-instances` or `--max-hourly-cost`.
    public static let spendCap: Int32 = 3
    /// The script was stopped by Ctrl-C (128 + SIGINT, as shells report it).
    public static let interrupted: Int32 = 130

    /// The status an uncaught error with this `code` ends a run with, when it has one of its own.
    public static func forCode(_ code: String) -> Int32? {
        switch code {
        case "spend_cap": return spendCap
        case "interrupted": return interrupted
        default: return nil
        }
    }
}

extension RuncrateModule {
    /// The exit status for the error that ended the script: read from the error value the message
    /// handler kept (`RCSHIM_LAST_ERROR_KEY`) when it is one of this module's error objects — its
    /// `code`, never its text. Stack: unchanged.
    public func exitStatusOfLastError(in L: LuaState) -> Int32? {
        let top = L.gettop()
        defer { L.settop(top) }
        L.rawget(L.registryIndex, field: RCSHIM_LAST_ERROR_KEY)
        guard L.type(at: -1) == .table, isModuleError(at: -1, in: L) else { return nil }
        L.rawget(-1, field: "code")
        return L.tostring(-1).flatMap(RuncrateExitStatus.forCode)
    }
}
