import Foundation
import PackagePlugin

/// Compiles the module's Lua prelude at build time with the Lua the package links (`prelude-compiler`,
/// a `lua_dump` tool) and hands RuncrateLua the bytecode as a generated Swift file: neither the
/// bytecode nor a copy of the source is committed, and they cannot drift from `prelude.lua`.
@main
struct EmbedPrelude: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let source = target as? SourceModuleTarget else { return [] }
        // The prelude's parts, split by concern, in the order of their names (1-core.lua, …): one chunk.
        let folder = source.directoryURL.appending(path: "Prelude")
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder.path(percentEncoded: false))
            .filter { $0.hasSuffix(".lua") }.sorted()
            .map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "PreludeBytecode.swift")
        return [
            .buildCommand(
                displayName: "Compiling the runcrate prelude",
                executable: try context.tool(named: "prelude-compiler").url,
                arguments: [output.path(percentEncoded: false)] + parts.map { $0.path(percentEncoded: false) },
                inputFiles: parts,
                outputFiles: [output]
            )
        ]
    }
}
