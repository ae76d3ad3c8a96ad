import LuaBridge
import Testing
@testable import RuncrateLua

/// One bad create spec: the Lua that builds it, and every `field | message` the error must list.
struct BadSpec: CustomTestStringConvertible, Sendable {
    let lua: String
    let errors: [String]
    init(_ lua: String, _ errors: String...) {
        self.lua = lua
        self.errors = errors
    }
    var testDescription: String { lua }
}

private let ok = #"name = "a", gpu_type = "h100-sxm""#

let badSpecs: [BadSpec] = [
    BadSpec(#"return { gpu_type = "h100-sxm" }"#, "name | name is required"),
    BadSpec(#"return { name = "", gpu_type = "x" }"#, #"name | name must be a non-empty string (got "")"#),
    BadSpec(#"return { name = string.rep("a", 65), gpu_type = "x" }"#, "name | name must be at most 64 characters (got 65)"),
    BadSpec(#"return { name = "a" }"#, "gpu_type | exactly one of gpu_type or instance_type_id is required (got neither)"),
    BadSpec(#"return { name = "a", gpu_type = "x", instance_type_id = "y" }"#,
            "gpu_type | exactly one of gpu_type or instance_type_id is required (got both)"),
    BadSpec(#"return { name = "a", gpu = "h100-sxm" }"#,
            "gpu | unknown field 'gpu' — did you mean 'gpu_type'?",
            "gpu_type | exactly one of gpu_type or instance_type_id is required (got neither)"),
    BadSpec("return { \(ok), gpu_count = '8' }", "gpu_count | gpu_count: integer expected, got string '8'"),
    BadSpec("return { \(ok), gpu_count = 2.5 }", "gpu_count | gpu_count: integer expected, got number 2.5"),
    BadSpec("return { \(ok), gpu_count = 0/0 }", "gpu_count | gpu_count: integer expected, got number nan"),
    BadSpec("return { \(ok), gpu_count = math.huge }", "gpu_count | gpu_count: integer expected, got number inf"),
    BadSpec("return { \(ok), gpu_count = 1e20 }", "gpu_count | gpu_count: integer out of range (got 1e+20)"),
    BadSpec("return { \(ok), gpu_count = 1 << 40 }", "gpu_count | gpu_count: integer out of range (got 1099511627776)"),
    BadSpec("return { \(ok), gpu_count = 0 }", "gpu_count | gpu_count must be an integer >= 1 (got 0)"),
    BadSpec("return { \(ok), gpu_count = -3 }", "gpu_count | gpu_count must be an integer >= 1 (got -3)"),
    BadSpec("return { \(ok), cpu_cores = true }", "cpu_cores | cpu_cores: integer expected, got boolean true"),
    BadSpec("return { \(ok), memory = {} }", "memory | memory: integer expected, got table"),
    BadSpec("return { \(ok), storage = '100' }", "storage | storage: integer expected, got string '100'"),
    BadSpec(#"return { name = 5, gpu_type = "x" }"#, "name | name: string expected, got integer 5"),
    BadSpec(#"return { name = {}, gpu_type = "x" }"#, "name | name: string expected, got table"),
    BadSpec("return { \(ok), region = { 'us-east' } }", "region | region: string expected, got table"),
    BadSpec("return { \(ok), region = '' }", #"region | region must be a non-empty string (got "")"#),
    BadSpec("return { \(ok), template = print }", "template | template: string expected, got function"),
    BadSpec("return { \(ok), env = { A = {} } }", "env.A | env.A: string expected, got table"),
    BadSpec("return { \(ok), env = { A = true } }", "env.A | env.A: string expected, got boolean true"),
    BadSpec("return { \(ok), env = { ['1BAD'] = 'x' } }", #"env.1BAD | env.1BAD must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "1BAD")"#),
    BadSpec("return { \(ok), env = { { key = 'A', value = '1' }, { key = 'A', value = '2' } } }",
            #"env.2.key | env.2.key must be unique (got "A" again; first at env_vars.0.key)"#),
    BadSpec("return { \(ok), env = { { key = 'A' } } }", "env.1.value | env.1.value is required"),
    BadSpec("return { \(ok), env = { { key = 'A', val = '1' } } }",
            "env.1.val | unknown field 'env.1.val' — did you mean 'env.1.value'?"),
    BadSpec("return { \(ok), env = { A = '1', { key = 'B', value = '2' } } }",
            "env | env: either a map {NAME=value} or a list {{key=, value=}}, not both"),
    BadSpec("return { \(ok), env = 'A=1' }",
            "env | env: table of NAME=value pairs or {key=, value=} list expected, got string 'A=1'"),
    BadSpec("return { \(ok), env = setmetatable({}, {}) }", "env | env: plain table expected, got a table with a metatable"),
    BadSpec("return { \(ok), env = { A = 0/0 } }", "env.A | env.A: string or finite number expected, got number nan"),
    BadSpec("return { \(ok), env = { 'x' } }", "env.1 | env.1: {key=, value=} table expected, got string 'x'"),
    BadSpec("return { \(ok), env = { A = '1' }, env_vars = {} }", "env_vars | env_vars: give env or env_vars, not both"),
    BadSpec("return { \(ok), startup_commands = 'nvidia-smi' }",
            "startup_commands | startup_commands: list of strings expected, got string 'nvidia-smi'"),
    BadSpec("return { \(ok), startup_commands = { 'a', {} } }", "startup_commands.2 | startup_commands.2: string expected, got table"),
    BadSpec("return { \(ok), startup_commands = { x = 'a' } }", "startup_commands | startup_commands: list expected, found key 'x'"),
    BadSpec("return { \(ok), startup_commands = { '' } }", #"startup_commands.1 | startup_commands.1 must be a non-empty string (got "")"#),
    BadSpec("return { \(ok), launch_script = 'echo', launch_script_base64 = 'ZWNobw==' }",
            "launch_script | at most one of launch_script or launch_script_base64 may be given (got both)"),
    BadSpec("return { \(ok), launch_script_base64 = 'not base64!' }",
            #"launch_script_base64 | launch_script_base64 must be valid base64 (got "not base64!")"#),
    BadSpec("return { \(ok), max_runtime_minutes = 4 }", "max_runtime_minutes | max_runtime_minutes must be an integer from 5 to 10080 (got 4)"),
    BadSpec("return { \(ok), idle_shutdown_minutes = 2000 }",
            "idle_shutdown_minutes | idle_shutdown_minutes must be an integer from 5 to 1440 (got 2000)"),
    BadSpec("return { \(ok), max_runtime_minutes = 30.5 }", "max_runtime_minutes | max_runtime_minutes: integer expected, got number 30.5"),
    BadSpec("return setmetatable({ \(ok) }, {})", "spec | spec: plain table expected, got a table with a metatable"),
    BadSpec("return 'h100-sxm'", "spec | spec: table expected, got string 'h100-sxm'"),
    BadSpec("return nil", "spec | spec: table expected, got nil"),
    BadSpec("return { 'a', \(ok) }", "1 | spec: field names must be strings, got integer 1"),
    BadSpec("return { \(ok), ssh_key = 'k' }", "ssh_key | unknown field 'ssh_key' — did you mean 'ssh_key_id'?"),
    BadSpec("return { \(ok), flavour = 'k' }", "flavour | unknown field 'flavour'"),
    BadSpec("local t = { \(ok) }; t.env = t; return t", "env.env | env.env: string expected, got table"),
    BadSpec("local t = { \(ok) }; t.startup_commands = { t }; return t", "startup_commands.1 | startup_commands.1: string expected, got table"),
    BadSpec(#"return { name = "", gpu_type = "x", gpu_count = "2", memory = 0 }"#,
            "gpu_count | gpu_count: integer expected, got string '2'",
            #"name | name must be a non-empty string (got "")"#,
            "memory | memory must be an integer >= 1 (got 0)"),
    BadSpec("return { \(ok), gpu_type = 5 }", "gpu_type | gpu_type: string expected, got integer 5"),
    // Bytes that are not UTF-8 would be replaced on the way to JSON: refused instead.
    BadSpec(#"return { name = "caf\xff\xfe", gpu_type = "x" }"#,
            "name | name: UTF-8 text expected, got a string with an invalid byte at position 4"),
    BadSpec(#"return { \#(ok), env = { A = "ok", B = "v\xc3" } }"#,
            "env.B | env.B: UTF-8 text expected, got a string with an invalid byte at position 2"),
    BadSpec(#"return { \#(ok), env = { A = runcrate.secret("\xff") } }"#,
            "env.A | env.A: UTF-8 text expected, got a string with an invalid byte at position 1"),
    BadSpec(#"return { \#(ok), startup_commands = { "echo \xe2\x82" } }"#,
            "startup_commands.1 | startup_commands.1: UTF-8 text expected, got a string with an invalid byte at position 6"),
    // A Lua-level error in one part of a field does not hide the client's checks of the rest.
    BadSpec("return { \(ok), env = { OK = {}, ['1BAD'] = 'v' } }",
            "env.OK | env.OK: string expected, got table",
            #"env.1BAD | env.1BAD must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "1BAD")"#),
    BadSpec("return { \(ok), env = { ['1BAD'] = {} } }",
            "env.1BAD | env.1BAD: string expected, got table",
            #"env.1BAD | env.1BAD must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "1BAD")"#),
    BadSpec("return { \(ok), env = { { key = 'A', value = {} }, { key = 'A', value = '2' }, { key = '9', value = '3' } } }",
            "env.1.value | env.1.value: string expected, got table",
            #"env.2.key | env.2.key must be unique (got "A" again; first at env_vars.0.key)"#,
            #"env.3.key | env.3.key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "9")"#),
    BadSpec("return { \(ok), env = { { key = '1BAD', value = '1', extra = true } } }",
            "env.1.extra | unknown field 'env.1.extra'",
            #"env.1.key | env.1.key must match ^[A-Za-z_][A-Za-z0-9_]*$ (got "1BAD")"#),
    BadSpec("return { \(ok), startup_commands = { {}, '' } }",
            "startup_commands.1 | startup_commands.1: string expected, got table",
            #"startup_commands.2 | startup_commands.2 must be a non-empty string (got "")"#),
    BadSpec("return { \(ok), startup_commands = { '', x = 'a' } }",
            "startup_commands | startup_commands: list expected, found key 'x'",
            #"startup_commands.1 | startup_commands.1 must be a non-empty string (got "")"#),
]

@Suite struct BadSpecTests {
    @Test func thereAreAtLeastFortyCases() { #expect(badSpecs.count >= 40) }

    /// With the wait options' cases (CreateWaitOptionTests).
    @Test(arguments: badSpecs + badWaitSpecs)
    func badSpecIsRejectedBeforeAnyRequest(_ spec: BadSpec) async throws {
        let h = try await Harness.make()
        let r = try await h.run("""
            local spec = (function() \(spec.lua) end)()
            local ok, e = pcall(runcrate.create_instance, spec)
            if ok then return "created" end
            local lines = {}
            for i, fe in ipairs(e.errors) do lines[i] = fe.field .. " | " .. fe.message end
            return e.code, table.concat(lines, "\\n"), e.message
            """)
        #expect(r.first == .string("validation_error"))
        let got = (r.count > 1 ? r[1].stringValue ?? "" : "").split(separator: "\n").map(String.init)
        #expect(got.sorted() == spec.errors.sorted())
        #expect(r.count > 2 && r[2].stringValue == got.map { $0.components(separatedBy: " | ")[1] }.joined(separator: "; "))
        #expect(h.sandbox.requestLog().isEmpty)
    }
}
