import Foundation
import Testing

@Suite("REPL through a pipe")
struct PipedREPLTests {
    @Test func printsExpressionValues() throws {
        let result = try runcrateLua(["-i"], stdin: "1 + 1\n'a', nil, 3\n=math.max(4, 9)\nlocal x = 5\n")
        #expect(result.stdout == Lua.banner + "> 2\n> a\tnil\t3\n> 9\n> > \n")
        #expect(result.stderr == "")
        #expect(result.status == 0)
    }

    @Test func continuesAnIncompleteChunk() throws {
        let result = try runcrateLua(["-i"], stdin: "function f(x)\nreturn x * 3\nend\nf(14)\n")
        #expect(result.stdout == Lua.banner + "> >> >> > 42\n> \n")
        #expect(result.status == 0)
    }

    @Test func reportsAnErrorAndGoesOn() throws {
        let result = try runcrateLua(["-i"], stdin: "error('boom')\nprint('alive')\n")
        #expect(result.stdout == Lua.banner + "> > alive\n> \n")
        #expect(result.stderr == "stdin:1: boom\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:1: in main chunk\n\t[C]: in ?\n")
        #expect(result.status == 0)
    }

    @Test func reportsAChunkLeftIncompleteAtEndOfInput() throws {
        let result = try runcrateLua(["-i"], stdin: "x = \n")
        #expect(result.stderr == "stdin:1: unexpected symbol near <eof>\n")
        #expect(result.status == 0)
    }

    @Test func withoutDashIAPipedStdinIsAScript() throws {
        let result = try runcrateLua([], stdin: "1 + 1\n")
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("runcrate-lua: stdin:1: unexpected symbol near '1'"))
        #expect(result.status == 0, "lua.c ignores the status of a script read from stdin when no script is named")
    }
}

enum Lua {
    static let banner = "Lua 5.4.4  Copyright (C) 1994-2022 Lua.org, PUC-Rio\n"
}

@Suite("REPL on a terminal", .serialized)
struct TerminalREPLTests {
    func startREPL(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> PseudoTerminalSession {
        var env = environment
        if env["XDG_STATE_HOME"] == nil { env["XDG_STATE_HOME"] = Paths.temporaryDirectory().path }
        let session = try PseudoTerminalSession(Paths.runcrateLua, argv0: "runcrate-lua", arguments, environment: env)
        #expect(session.expect("Lua 5.4"), "no banner:\n\(session.output)")
        #expect(session.expect("> "), "no prompt:\n\(session.output)")
        return session
    }

    @Test func printsValuesAndContinuesChunks() throws {
        let repl = try startREPL()
        repl.send("6 * 7\r")
        #expect(repl.expect("42"), "\(repl.output)")
        repl.send("for i = 1, 2 do\r")
        #expect(repl.expect(">> "), "\(repl.output)")
        repl.send("print('line' .. i * 100)\r")
        #expect(repl.expect(">> "), "\(repl.output)")
        repl.send("end\r")
        #expect(repl.expect("line100"), "\(repl.output)")
        #expect(repl.expect("line200"), "\(repl.output)")
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }

    @Test func reportsErrorsAndGoesOn() throws {
        let repl = try startREPL()
        repl.send("error('kaboom')\r")
        #expect(repl.expect("stdin:1: kaboom"), "\(repl.output)")
        #expect(repl.expect("stack traceback:"), "\(repl.output)")
        repl.send("print('still' .. 'alive')\r")
        #expect(repl.expect("stillalive"), "\(repl.output)")
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }

    @Test func ctrlCInterruptsRunningCodeAndTheREPLGoesOn() throws {
        let repl = try startREPL()
        repl.send("while true do end\r")
        #expect(repl.expect("while true do end"), "\(repl.output)")
        #expect(repl.expect("\n"), "\(repl.output)")
        Thread.sleep(forTimeInterval: 1)  // let the loop start; Ctrl-C at the prompt would end the REPL, as in lua
        repl.send("\u{03}")
        #expect(repl.expect("interrupted!"), "\(repl.output)")
        #expect(repl.expect("> "), "\(repl.output)")
        repl.send("=40 + 2\r")
        #expect(repl.expect("42"), "\(repl.output)")
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }

    /// Ctrl-C while a create is in flight is the module's `interrupted` error at the user's line,
    /// not lua's "interrupted!" placed inside the module's Lua code with a traceback into it.
    @Test func ctrlCDuringACreateIsTheInterruptedErrorAtTheUsersLine() throws {
        let server = try RunningSandbox(["--faults", "create=latency:20s"])
        let repl = try startREPL(["--yes"], environment: server.environment)
        repl.send("inst = runcrate.create_instance{ name = 'slow', gpu_type = 'h100-sxm' }\r")
        #expect(repl.expect("h100-sxm' }"), "\(repl.output)")
        #expect(repl.expect("\n"), "\(repl.output)")
        Thread.sleep(forTimeInterval: 1.5)  // the create is in flight (the sandbox answers after 20 s)
        repl.send("\u{03}")
        #expect(repl.expect("stdin:1: runcrate.create_instance: interrupted: interrupted by Ctrl-C"), "\(repl.output)")
        #expect(repl.expect("> "), "\(repl.output)")
        repl.send("=40 + 2\r")
        #expect(repl.expect("42"), "\(repl.output)")
        #expect(!repl.output.contains("interrupted!"), "\(repl.output)")
        #expect(!repl.output.contains("stack traceback"), "\(repl.output)")
        #expect(repl.output.range(of: "runcrate:[0-9]+:", options: .regularExpression) == nil, "\(repl.output)")
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }

    @Test func ctrlCDuringACreateInAScriptIsTheInterruptedError() throws {
        let server = try RunningSandbox(["--faults", "create=latency:20s"])
        var env = server.environment
        env["XDG_STATE_HOME"] = Paths.temporaryDirectory().path
        let run = try PseudoTerminalSession(Paths.runcrateLua, argv0: "runcrate-lua",
            ["--yes", "-e", "runcrate.create_instance{ name = 'slow', gpu_type = 'h100-sxm' }"], environment: env)
        Thread.sleep(forTimeInterval: 2)  // the create is in flight
        run.send("\u{03}")
        #expect(run.waitForExit(timeout: 30) == 130, "\(run.output)")
        #expect(run.output.contains("runcrate-lua: (command line):1: runcrate.create_instance: interrupted: interrupted by Ctrl-C"), "\(run.output)")
        #expect(run.output.range(of: "runcrate:[0-9]+:", options: .regularExpression) == nil, "\(run.output)")
    }

    /// Ctrl-C in a coroutine stops the script, not just the coroutine (`coroutine.resume` would
    /// return false and the script go on). Coroutines see Ctrl-C only when a hook runs in them: with
    /// `--timeout` (as in lua, a busy coroutine without one is stopped only by a second Ctrl-C).
    @Test func ctrlCInACoroutineStopsTheScript() throws {
        let code = "local co = coroutine.create(function() while true do end end); print(coroutine.resume(co)); print('after')"
        let run = try PseudoTerminalSession(Paths.runcrateLua, argv0: "runcrate-lua", ["--timeout", "60", "-e", code],
                                            environment: ["XDG_STATE_HOME": Paths.temporaryDirectory().path])
        Thread.sleep(forTimeInterval: 1)
        run.send("\u{03}")
        #expect(run.waitForExit(timeout: 30) == 130, "\(run.output)")
        #expect(run.output.contains("interrupted!"), "\(run.output)")
        #expect(!run.output.contains("after"), "\(run.output)")
    }

    @Test func ctrlCDuringAModuleCallInACoroutineStopsTheScript() throws {
        let code = "local co = coroutine.create(function() runcrate.sleep(30) end); print(coroutine.resume(co)); print('after')"
        let run = try PseudoTerminalSession(Paths.runcrateLua, argv0: "runcrate-lua", ["--sandbox", "-e", code],
                                            environment: ["XDG_STATE_HOME": Paths.temporaryDirectory().path])
        Thread.sleep(forTimeInterval: 1.5)
        run.send("\u{03}")
        #expect(run.waitForExit(timeout: 30) == 130, "\(run.output)")
        // The coroutine's `interrupted` error went to coroutine.resume; the main thread stops at its line.
        #expect(run.output.contains("runcrate-lua: (command line):1: interrupted!"), "\(run.output)")
        #expect(run.output.range(of: "runcrate:[0-9]+:", options: .regularExpression) == nil, "\(run.output)")
        #expect(!run.output.contains("after"), "\(run.output)")
    }

    @Test func historyIsKeptBetweenSessions() throws {
        let state = Paths.temporaryDirectory().path
        let first = try startREPL(environment: ["XDG_STATE_HOME": state])
        first.send("print('hist' .. 6 * 7)\r")
        #expect(first.expect("hist42"), "\(first.output)")
        #expect(first.endWithCtrlD() == 0, "\(first.output)")
        #expect(FileManager.default.fileExists(atPath: state + "/runcrate-lua/history"))

        let second = try startREPL(environment: ["XDG_STATE_HOME": state])
        second.send("\u{1b}[A\r")  // Up: the last line of the first session
        #expect(second.expect("hist42"), "\(second.output)")
        #expect(second.endWithCtrlD() == 0, "\(second.output)")
    }

    @Test func tabCompletesFieldsOfTables() throws {
        let repl = try startREPL()
        repl.send("=string.up\t")
        #expect(repl.expect("per("), "\(repl.output)")  // libedit redraws only what it inserted
        repl.send("'abc')\r")
        #expect(repl.expect("ABC"), "\(repl.output)")
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }

    /// The REPL loads the `runcrate` module library at start, so its fields complete before any use.
    @Test func tabCompletesTheRuncrateModule() throws {
        let repl = try startREPL(["--sandbox"])
        repl.send("=runcrate.mo\t")
        #expect(repl.expect("de"), "\(repl.output)")
        repl.send("\r")
        #expect(repl.expect("sandbox"), "\(repl.output)")
        repl.send("=runcrate.create_i\t")
        #expect(repl.expect("nstance("), "\(repl.output)")
        repl.send("\u{15}\r")  // Ctrl-U: drop the line
        #expect(repl.endWithCtrlD() == 0, "\(repl.processState)\n\(repl.output)")
    }
}
