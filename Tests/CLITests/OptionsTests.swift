import Foundation
import Testing

@Suite("runcrate-lua's own options")
struct OptionsTests {
    @Test func versionNamesBothVersions() throws {
        let result = try runcrateLua(["--version"])
        #expect(result.stdout == "runcrate-lua 0.1.0\nLua 5.4.4  Copyright (C) 1994-2022 Lua.org, PUC-Rio\n")
        #expect(result.status == 0)
    }

    @Test func helpListsLuaAndRuncrateOptions() throws {
        let result = try runcrateLua(["--help"])
        #expect(result.stdout.hasPrefix("usage: runcrate-lua [options] [script [args]]\nAvailable options are:\n  -e stat   execute string 'stat'\n"))
        for flag in ["--timeout SECONDS", "--memory-limit MB", "--safe", "--sandbox", "--live", "--dry-run", "--plan-out FILE",
                     "--max-instances N", "--max-hourly-cost USD", "--environment NAME", "--json", "--verbose", "--yes", "--help", "--version"] {
            #expect(result.stdout.contains("  " + flag + " "), "help lacks \(flag)")
        }
        #expect(result.stdout.contains("124 timed out, 130 interrupted"))
        #expect(result.status == 0)
    }

    @Test func longOptionValuesMayBeAttached() throws {
        let result = try runcrateLua(["--timeout=30", "--memory-limit=64", "-e", "print('ok')"])
        #expect(result.stdout == "ok\n")
        #expect(result.status == 0)
    }

    static let badValues: [([String], String)] = [
        (["--timeout", "soon"], "runcrate-lua: --timeout expects a number of seconds greater than 0 (got 'soon')"),
        (["--timeout", "0"], "runcrate-lua: --timeout expects a number of seconds greater than 0 (got '0')"),
        (["--memory-limit", "1.5"], "runcrate-lua: --memory-limit expects a whole number of megabytes greater than 0 (got '1.5')"),
        (["--max-instances", "-2"], "runcrate-lua: --max-instances expects a whole number of instances greater than 0 (got '-2')"),
        (["--max-hourly-cost", "lots"], "runcrate-lua: --max-hourly-cost expects an amount of US dollars per hour greater than 0 (got 'lots')"),
        (["--sandbox", "--live"], "runcrate-lua: --sandbox and --live cannot be used together"),
        (["--plan-out", "plan.json"], "runcrate-lua: --plan-out needs --dry-run"),
        (["--safe=yes"], "runcrate-lua: --safe takes no value"),
        (["--timeout"], "runcrate-lua: '--timeout' needs argument"),
    ]

    @Test(arguments: badValues)
    func badOptionValuesNameTheFlag(_ arguments: [String], _ message: String) throws {
        let result = try runcrateLua(arguments)
        #expect(result.stderr == message + "\nTry 'runcrate-lua --help' for more information.\n", "\(result)")
        #expect(result.stdout == "")
        #expect(result.status == 1)
    }

    static let moduleOptions: [([String], String)] = [
        (["--sandbox"], "sandbox"), (["--dry-run"], "dry-run"), (["--sandbox", "--dry-run", "--plan-out", "/dev/null"], "dry-run"),
        (["--max-instances", "2"], "sandbox"), (["--max-hourly-cost", "3.5"], "sandbox"), (["--environment", "prod"], "sandbox"),
        (["--json"], "sandbox"), (["--verbose"], "sandbox"), (["--yes"], "sandbox"),
    ]

    @Test(arguments: moduleOptions)
    func moduleOptionsSetTheMode(_ arguments: [String], _ mode: String) throws {
        let result = try runcrateLua(arguments + ["-e", "print(runcrate.mode)"])
        // No API call was made, so no sandbox notice; a dry run still says that it planned nothing.
        let expected = mode == "dry-run" ? "dry-run plan: nothing to create, change or delete\n" : ""
        if arguments == ["--json"] {
            // stdout is the JSON document (no script file, so no result); the print goes to stderr.
            #expect(result.stdout == "null\n", "\(result)")
            #expect(result.stderr == mode + "\n", "\(result)")
        } else {
            #expect(result.stdout == mode + "\n", "\(result)")
            #expect(result.stderr == expected, "\(result)")
        }
        #expect(result.status == 0)
    }

    @Test func liveWithoutAKeyFailsAtTheFirstCallNamingTheKey() throws {
        let result = try runcrateLua(["--live", "-e", "print(runcrate.mode) runcrate.balance()"], environment: ["XDG_CONFIG_HOME": "/nonexistent"])
        #expect(result.stdout == "live\n", "\(result)")
        #expect(result.stderr.contains("configuration_error"), "\(result)")
        #expect(result.stderr.contains("RUNCRATE_API_KEY"), "\(result)")
        #expect(result.status == 1)
    }

    @Test func longOptionsAfterTheScriptBelongToTheScript() throws {
        let result = try runcrateLua(["-e", "print(...)", "args.lua", "--sandbox", "--timeout"])
        #expect(result.stdout.contains("1\t--sandbox\n2\t--timeout\n"), "\(result)")
        #expect(result.status == 0)
    }
}
