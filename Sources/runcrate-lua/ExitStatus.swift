/// The exit statuses of `runcrate-lua`: lua's 0 and 1, plus one code per way a run can be stopped.
enum ExitStatus: Int32 {
    /// Everything ran.
    case success = 0
    /// A script error, a usage error, or a bad option value (lua's EXIT_FAILURE).
    case failure = 1
    /// Reserved for the `runcrate` module: a create would cross `--max-instances`/`--max-hourly-cost`.
    case spendCap = 3
    /// `--timeout` stopped the script (as timeout(1) reports it).
    case timedOut = 124
    /// Ctrl-C stopped the script (128 + SIGINT, as shells report it).
    case interrupted = 130
}
