// swift-tools-version: 6.1
// The bridge tests again, built with AddressSanitizer: `swift test --sanitize=address --package-path Tests/ASan`.
// A package of its own so the sanitizer build covers only the Lua layers, not the HTTP stack.
import PackageDescription

let package = Package(
    name: "LuaBridgeASan",
    dependencies: [.package(name: "runcrate-lua", path: "../..")],
    targets: [
        .testTarget(
            name: "LuaBridgeTests",
            dependencies: [.product(name: "LuaBridge", package: "runcrate-lua")],
            path: "LuaBridgeTests"
        ),
    ]
)
