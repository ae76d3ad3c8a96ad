import Foundation
import Testing

/// One invocation run by both `lua5.4` and `runcrate-lua`, each started with argv[0] = "runcrate-lua"
/// so that lua's messages name the same program.
struct LuaInvocation: CustomTestStringConvertible, Sendable {
    var name: String
    var arguments: [String]
    var stdin: String = ""
    var environment: [String: String] = [:]
    /// The REPL prompts the input lines follow (for removing readline's echo).
    var prompts: [String] = ["> ", ">> "]

    var testDescription: String { name }
}

/// lua5.4 as Debian builds it reads the REPL through GNU readline, which echoes each input line
/// after the prompt when stdin is not a terminal; lua.c without readline (and runcrate-lua) does
/// not. This removes those echoes, in order, so the rest can be compared byte for byte.
func removingReadlineEcho(_ output: String, input: String, prompts: [String]) -> String {
    var result = output
    var cursor = result.startIndex
    for line in input.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        for prompt in prompts {
            if let range = result.range(of: prompt + line + "\n", range: cursor..<result.endIndex) {
                let echo = result.index(range.lowerBound, offsetBy: prompt.count)..<range.upperBound
                result.removeSubrange(echo)
                cursor = result.index(range.lowerBound, offsetBy: prompt.count)
                break
            }
        }
    }
    return result
}

@Suite("runcrate-lua behaves as lua5.4")
struct LuaComparisonTests {
    static let invocations: [LuaInvocation] = [
        .init(name: "-e runs a statement", arguments: ["-e", "print(1 + 1, 'two')"]),
        .init(name: "several -e run in order", arguments: ["-e", "x = 10", "-e", "print(x * 2)"]),
        .init(name: "-e with the statement attached", arguments: ["-eprint('attached')"]),
        .init(name: "-e syntax error", arguments: ["-e", "x = = 1"]),
        .init(name: "stack overflow skips as many levels", arguments: ["-e", "local function f() return 1 + f() end f()"]),
        .init(name: "stack overflow in the REPL", arguments: ["-i"], stdin: "local function f() return 1 + f() end f()\nprint('after')\n"),
        .init(name: "-e runtime error stops later options", arguments: ["-e", "error('first')", "-e", "print('never')"]),
        .init(name: "-l mod requires into a global", arguments: ["-l", "greet", "-e", "print(greet.hello())"]),
        .init(name: "-l g=mod requires into another global", arguments: ["-l", "g=greet", "-e", "print(g.hello(), greet)"]),
        .init(name: "-lmod attached", arguments: ["-lgreet", "-e", "print(package.loaded.greet == greet)"]),
        .init(name: "-l of a missing module", arguments: ["-l", "nosuchmodule"]),
        .init(name: "-l of a module that raises", arguments: ["-l", "failmod"]),
        .init(name: "-v prints the version", arguments: ["-v"]),
        .init(name: "-v with -e prints the version first", arguments: ["-v", "-e", "print('after version')"]),
        .init(name: "-E ignores LUA_INIT and LUA_PATH", arguments: ["-E", "-e", "print(x, package.path:find('/nowhere', 1, true))"],
              environment: ["LUA_INIT": "x = 'init ran'", "LUA_PATH": "/nowhere/?.lua"]),
        .init(name: "LUA_PATH is honoured without -E", arguments: ["-e", "print(package.path)"], environment: ["LUA_PATH": "/nowhere/?.lua;;"]),
        .init(name: "-W turns warnings on", arguments: ["-W", "warn.lua"]),
        .init(name: "warnings are off without -W", arguments: ["warn.lua"]),
        .init(name: "-- ends the options", arguments: ["--", "args.lua", "-e", "x"]),
        .init(name: "-- alone with a piped stdin", arguments: ["--"], stdin: "print('stdin after --')\n"),
        .init(name: "- runs stdin with arguments", arguments: ["-", "a", "b"], stdin: "print('from stdin', ...)\nprint(arg[0], arg[1], arg[-1])\n"),
        .init(name: "- with an error exits 1", arguments: ["-"], stdin: "error('from stdin')\n"),
        .init(name: "LUA_INIT code runs first", arguments: ["-e", "print(x)"], environment: ["LUA_INIT": "x = 'from LUA_INIT'"]),
        .init(name: "LUA_INIT_5_4 wins over LUA_INIT", arguments: ["-e", "print(x)"],
              environment: ["LUA_INIT": "x = 'plain'", "LUA_INIT_5_4": "x = 'versioned'"]),
        .init(name: "LUA_INIT @file runs the file", arguments: ["-e", "print(initialised)"], environment: ["LUA_INIT": "@init.lua"]),
        .init(name: "LUA_INIT error stops the run", arguments: ["-e", "print('never')"], environment: ["LUA_INIT": "error('bad init')"]),
        .init(name: "LUA_INIT @file that is missing", arguments: ["-e", "print('never')"], environment: ["LUA_INIT": "@missing-init.lua"]),
        .init(name: "arg table with negative indices and ...", arguments: ["-e", "y = 1", "args.lua", "one", "two"]),
        .init(name: "script arguments that look like options", arguments: ["args.lua", "-e", "-v", "--timeout", "-", "--", "-x"]),
        .init(name: "arg without a script", arguments: ["-e", "for i = -1, #arg do print(i, arg[i]) end", "-e", "print(...)"]),
        .init(name: "shebang line is skipped", arguments: ["shebang.lua", "x"]),
        .init(name: "byte order mark is skipped", arguments: ["bom.lua"]),
        .init(name: "byte order mark then shebang", arguments: ["bomshebang.lua"]),
        .init(name: "piped stdin without a script runs as a script", arguments: [], stdin: "print('piped', 6 * 7)\nprint(...)\n"),
        .init(name: "piped stdin script with an error", arguments: [], stdin: "local t = nil\nprint(t.x)\n"),
        .init(name: "script reads its stdin", arguments: ["readstdin.lua"], stdin: "alpha\nbeta\n"),
        .init(name: "runtime error with traceback", arguments: ["runtime_error.lua"]),
        .init(name: "syntax error in a script", arguments: ["syntax_error.lua"]),
        .init(name: "error object with __tostring", arguments: ["error_object.lua"]),
        .init(name: "error object table without __tostring", arguments: ["error_table.lua"]),
        .init(name: "error(nil)", arguments: ["-e", "error(nil)"]),
        .init(name: "error with a number", arguments: ["-e", "error(42)"]),
        .init(name: "error with level 0", arguments: ["-e", "error('no position', 0)"]),
        .init(name: "os.exit with a code", arguments: ["exit_codes.lua", "7"]),
        .init(name: "os.exit(true)", arguments: ["exit_codes.lua", "true"]),
        .init(name: "os.exit(false)", arguments: ["exit_codes.lua", "false"]),
        .init(name: "script return values are ignored", arguments: ["returns.lua"]),
        .init(name: "missing script file", arguments: ["no-such-script.lua"]),
        .init(name: "unknown option", arguments: ["-x"]),
        .init(name: "unknown long option", arguments: ["--bogus"]),
        .init(name: "option with extra characters", arguments: ["-vx"]),
        .init(name: "-e without its argument", arguments: ["-e"]),
        .init(name: "-l without its argument", arguments: ["-l"]),
        .init(name: "-e followed by another option", arguments: ["-e", "-v"]),
        .init(name: "-i with piped input", arguments: ["-i"],
              stdin: "x = 20\nx + 1\n=x * 2\nerror('oops')\nfor i = 1, 2 do\nprint(i)\nend\n'a', nil, 3\nprint('still here')\n"),
        .init(name: "-i after a script", arguments: ["-i", "args.lua", "p"], stdin: "print(#arg, arg[0])\n"),
        .init(name: "-i with custom prompts", arguments: ["-i", "-e", "_PROMPT = 'lua% ' _PROMPT2 = setmetatable({}, {__tostring = function() return '..' end})"],
              stdin: "if true then\nprint('in')\nend\n", prompts: ["lua% ", ".."]),
        .init(name: "-i print of a value whose __tostring fails", arguments: ["-i"],
              stdin: "setmetatable({}, {__tostring = function() return 1 end})\nprint('next')\n"),
    ]

    @Test(arguments: invocations)
    func matchesLua(_ invocation: LuaInvocation) throws {
        let input = Array(invocation.stdin.utf8)
        let ours = try Subprocess.run(Paths.runcrateLua, argv0: "runcrate-lua", invocation.arguments, stdin: input, environment: invocation.environment)
        var reference = try Subprocess.run(Paths.lua54, argv0: "runcrate-lua", invocation.arguments, stdin: input, environment: invocation.environment)
        if invocation.arguments.contains("-i") {
            reference.stdout = removingReadlineEcho(reference.stdout, input: invocation.stdin, prompts: invocation.prompts)
        }
        #expect(ours.stdout == reference.stdout, "stdout differs\n--- runcrate-lua ---\n\(ours)\n--- lua5.4 ---\n\(reference)")
        #expect(ours.stderr == reference.stderr, "stderr differs\n--- runcrate-lua ---\n\(ours)\n--- lua5.4 ---\n\(reference)")
        #expect(ours.status == reference.status, "exit status differs\n--- runcrate-lua ---\n\(ours)\n--- lua5.4 ---\n\(reference)")
    }
}
