import LuaBridge

/// The one place where the `runcrate` module joins the interpreter. Until the module is built,
/// the options that only it can honour are refused here, so nothing pretends to work.
///
/// To wire the module in: make `unavailableOptions` return [] (or only what stays unsupported),
/// install the module in `install` (global `runcrate` + `package.preload.runcrate`, starting the
/// sandbox or client lazily at the first call that needs the API), and let `finish` print the
/// dry-run plan and return `.spendCap` when the governor stopped the run.
enum RuncrateModuleHookup {
    /// The module options given on the command line that this build cannot honour.
    static func unavailableOptions(_ configuration: Configuration) -> [String] {
        var flags: [String] = []
        if configuration.mode == .sandbox { flags.append("--sandbox") }
        if configuration.mode == .live { flags.append("--live") }
        if configuration.dryRun { flags.append("--dry-run") }
        if configuration.planOut != nil { flags.append("--plan-out") }
        if configuration.maxInstances != nil { flags.append("--max-instances") }
        if configuration.maxHourlyCost != nil { flags.append("--max-hourly-cost") }
        if configuration.environment != nil { flags.append("--environment") }
        if configuration.json { flags.append("--json") }
        if configuration.verbose { flags.append("--verbose") }
        if configuration.assumeYes { flags.append("--yes") }
        return flags
    }

    /// Called once the standard libraries are open (and `--safe` applied), before LUA_INIT runs.
    /// Must stay cheap: `runcrate-lua -e ''` does no more than `lua -e ''`.
    static func install(into L: LuaState, configuration: Configuration) {}

    /// Called when the run ends; may replace the exit status.
    static func finish(_ L: LuaState, status: ExitStatus) -> ExitStatus { status }
}
