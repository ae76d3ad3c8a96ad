import Foundation
import PackagePlugin

/// Compiles the module's Lua prelude at build time with the Lua the package links (`prelude-compiler`,
/// a `lua_dump` tool) and hands RuncrateLua the bytecode as a generated Swift file: neither the
/// bytecode nor a copy of the source is committed, and they cannot drift from `prelude.lua`.
@main
struct EmbedPrelude: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let source = target as? SourceModuleTarget else { return [] }
        let prelude = source.directoryURL.appending(path: "Resources/prelude.lua")
        let output = context.pluginWorkDirectoryURL.appending(path: "PreludeBytecode.swift")
        return [
            .buildCommand(
                displayName: "Compiling the runcrate prelude",
                executable: try context.tool(named: "prelude-compiler").url,
                arguments: [prelude.path(percentEncoded: false), output.path(percentEncoded: false)],
                inputFiles: [prelude],
                outputFiles: [output]
            )
        ]
    }
}
