import LuaBridge

/// The texts the command line prints about itself.
enum Usage {
    static let runcrateLuaVersion = "0.1.0"

    /// lua.c's usage, word for word, so that scripts and people who know `lua` see what they expect.
    static func lua(progname: String) -> String {
        """
        usage: \(progname) [options] [script [args]]
        Available options are:
          -e stat   execute string 'stat'
          -i        enter interactive mode after executing 'script'
          -l mod    require library 'mod' into global 'mod'
          -l g=mod  require library 'mod' into global 'g'
          -v        show version information
          -E        ignore environment variables
          -W        turn warnings on
          --        stop handling options
          -         stop handling options and execute stdin

        """
    }

    /// `--help`: lua's options, then ours.
    static func help(progname: String) -> String {
        var text = lua(progname: progname)
        text += "Runcrate options (before the script):\n"
        for option in Configuration.longOptions + [helpOption, versionOption] {
            let flag = "--" + option.name + (option.valueName.map { " " + $0 } ?? "")
            text += "  " + flag.padding(toLength: 24) + option.help + "\n"
        }
        text += """
        Exit status: 0 success, 1 error (as lua), 3 spend cap reached, 124 timed out, 130 interrupted.
        Environment: LUA_INIT_5_4 / LUA_INIT (code, or @file, run first), LUA_PATH, LUA_CPATH (ignored with -E),
        RUNCRATE_API_KEY, XDG_STATE_HOME (REPL history in $XDG_STATE_HOME/runcrate-lua/history, else ~/.runcrate_lua_history).

        """
        return text
    }

    /// `--version`.
    static var version: String {
        "runcrate-lua \(runcrateLuaVersion)\n\(Lua.copyright)\n"
    }

    private static let helpOption = Configuration.LongOption(name: "help", valueName: nil, help: "show this help") { _, _ in }
    private static let versionOption = Configuration.LongOption(name: "version", valueName: nil, help: "show runcrate-lua's and Lua's versions") { _, _ in }
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
