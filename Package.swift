// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "runcrate-lua",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runcrate-lua", targets: ["runcrate-lua"]),
        .executable(name: "runcrate-sandbox", targets: ["runcrate-sandbox"]),
        // The `runcrate` module for runcrate-lua, loaded from beside the executable at first use.
        .library(name: "RuncrateLuaModule", type: .dynamic, targets: ["RuncrateLuaModule"]),
        .library(name: "RuncrateAPI", targets: ["RuncrateAPI"]),
        .library(name: "RuncrateSandbox", targets: ["RuncrateSandbox"]),
        .library(name: "LuaBridge", targets: ["LuaBridge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Lua 5.4 from the system, plus static inline stand-ins for the C macros.
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        // libedit (libedit-dev) for the REPL's line editing and history; the header is found in the
        // standard include path, and LuaLineReader links the library (statically in release on Linux).
        .systemLibrary(name: "CEdit"),
        // The only code that raises Lua errors.
        .target(name: "CLuaShim", dependencies: ["CLua"]),
        .target(name: "LuaBridge", dependencies: ["CLua", "CLuaShim"]),
        // The REPL's line readers: plain lines, or libedit with history and Tab completion. Apart
        // from LuaBridge so the module library (a shared object) does not link libedit.
        .target(
            name: "LuaLineReader",
            dependencies: ["CEdit"],
            linkerSettings: [
                // libedit is linked here, not by CEdit (no module-map `link`, no pkg-config). Release
                // builds on Linux link it statically (libedit-dev depends on the packages holding
                // these archives): four shared libraries fewer to load at every start of runcrate-lua.
                .linkedLibrary("edit", .when(platforms: [.macOS])),
                .linkedLibrary("edit", .when(platforms: [.linux], configuration: .debug)),
                .unsafeFlags(
                    ["-Xlinker", "-l:libedit.a", "-Xlinker", "-l:libtinfo.a",
                     "-Xlinker", "-l:libbsd.a", "-Xlinker", "-l:libmd.a"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),
        .target(
            name: "RuncrateAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "RuncrateSandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "RuncrateLua",
            dependencies: ["LuaBridge", "CLua", "CLuaShim", "RuncrateAPI"],
            // Prelude/*.lua is not shipped as files: EmbedPrelude compiles it into the target.
            exclude: ["Prelude"],
            plugins: ["EmbedPrelude"]
        ),
        // Compiles the prelude with the Lua the package links (lua_dump), at build time.
        .executableTarget(name: "prelude-compiler", dependencies: ["CLua"]),
        .plugin(name: "EmbedPrelude", capability: .buildTool(), dependencies: ["prelude-compiler"]),
        // The C interface between runcrate-lua and the module library (a header).
        .target(name: "CRuncrateModuleABI"),
        // The module library: RuncrateLua with the client, the sandbox, Foundation and NIO, behind the
        // C entry points of CRuncrateModuleABI. It links its own copy of the bridge and (in release)
        // of the Swift runtime and Foundation: `-Bsymbolic` binds its references to its own copies.
        .target(
            name: "RuncrateLuaModule",
            dependencies: ["CRuncrateModuleABI", "LuaBridge", "RuncrateLua", "RuncrateAPI", "RuncrateSandbox"],
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "-Bsymbolic"], .when(platforms: [.linux])),
                // SwiftPM's --static-swift-stdlib applies to executables only.
                .unsafeFlags(["-static-stdlib"], .when(platforms: [.linux], configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "runcrate-lua",
            // Nothing heavy: the runcrate module is loaded from its library when a script uses it.
            dependencies: ["LuaBridge", "LuaLineReader", "CRuncrateModuleABI"],
            linkerSettings: [
                // Cold start (`runcrate-lua -e ''`): `-static-stdlib` exports every symbol of the
                // executable, which the Swift runtime's start-up `dladdr` scans linearly; nothing
                // loads symbols from the executable, so export none. (The module library must not
                // bind to the executable's copies of the bridge either.)
                .unsafeFlags(
                    ["-Xlinker", "--no-export-dynamic"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),
        .executableTarget(
            name: "runcrate-sandbox",
            dependencies: [
                "RuncrateSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LuaBridgeTests", dependencies: ["LuaBridge"]),
        .testTarget(
            name: "RuncrateAPITests",
            dependencies: [
                "RuncrateAPI", "RuncrateSandbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RuncrateSandboxTests", dependencies: ["RuncrateSandbox"]),
        .testTarget(
            name: "RuncrateLuaTests",
            dependencies: [
                "RuncrateLua", "LuaBridge", "CLuaShim", "RuncrateAPI", "RuncrateSandbox",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "CLITests", dependencies: [], exclude: ["Fixtures"]),
    ]
)
