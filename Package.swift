// swift-tools-version:6.2
import PackageDescription

// Warnings are errors in CI (SSHCC_WERROR=1); locally they stay warnings so work in progress builds.
let strict: [SwiftSetting] =
    Context.environment["SSHCC_WERROR"] == "1" ? [.treatAllWarnings(as: .error)] : []

let package = Package(
    name: "sshcc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sshcc", targets: ["sshcc"]),
        .executable(name: "sshccd", targets: ["sshccd"]),
        .executable(name: "sshcc-mux", targets: ["sshcc-mux"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libssh2 as Swift sees it: a module map and inline twins of its function-like macros.
        .systemLibrary(name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        // A typed wrapper over libssh2: sessions, channels, host keys, authentication. Knows nothing of distcc.
        // OpenSSH's known_hosts format read as OpenSSH reads it: pure, bytes in, lines out (fuzzed).
        .target(name: "KnownHostsFormat", swiftSettings: strict),
        // What OpenSSH's client resolved for a host (`ssh -G` output), its tokens, jump hops and the order keys
        // are offered in: pure, so that sshcc asks OpenSSH instead of re-implementing ssh_config.
        .target(name: "OpenSSHConfig", dependencies: ["KnownHostsFormat"], swiftSettings: strict),
        .target(
            name: "SSH",
            dependencies: [
                "CLibSSH2", "POSIXSupport", "KnownHostsFormat",
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                // HMAC-SHA1 of hashed known_hosts names.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // zstd and LZO1X as Swift sees them, for compressed distcc bodies (protocols 4 and 2).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZO", pkgConfig: "lzo2", providers: [.apt(["liblzo2-dev"])]),
        // Compress and decompress bodies: pure bytes in, bytes out, hostile input capped.
        .target(name: "WireCompression", dependencies: ["CZstd", "CLZO"], swiftSettings: strict),
        // The distcc wire protocol as a pure incremental codec: no sockets, no files.
        .target(name: "DistccWire", dependencies: ["WireCompression", "CompileCore"], swiftSettings: strict),
        // What a compile is, for both sides: which command lines can be distributed, languages and gcc's
        // options, the compilers sshcc knows, host specs, exit codes, wait statuses. Pure, no I/O.
        .target(name: "CompileCore", swiftSettings: strict),
        // What sshccd lets a client make its compiler do: the argument allow-list and its rules, the source
        // and assembly checks, the direct steps' commands. Pure, no I/O (fuzzed).
        .target(name: "ServerPolicy", dependencies: ["CompileCore"], swiftSettings: strict),
        // gcc's preprocessed text: line markers, and what a `-fdirectives-only` text cannot carry elsewhere.
        // Pure: bytes in, a verdict out (source files are read through a closure).
        .target(name: "PreprocessedText", dependencies: ["CPOSIX", "POSIXSupport"], swiftSettings: strict),
        // What decides a compiler's objects (compiler proper, assembler, driver, specs, target), as a digest:
        // computed by the wrapper (cached) and by sshccd, compared per job.
        .target(
            name: "Toolchains",
            dependencies: ["CompileCore", "POSIXSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // sshccd's object cache: keys, entries and the store shared by many accounts.
        .target(
            name: "ObjectCache",
            dependencies: ["CompileCore", "POSIXSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // glibc GNU extensions Swift's Glibc module hides (pipe2, posix_spawn chdir), and the signal pipe.
        .target(name: "CPOSIX"),
        // sshccd's compile job as a process: fork with limits, its own process group, the Landlock sandbox.
        .target(name: "CJobSandbox"),
        // Processes, descriptors, files, poll, signals, FIFOs, the private log file: with SSH, the only place that
        // calls the C library; sshcc, the mux daemon, sshccd and the log handler call it only through here.
        .target(
            name: "POSIXSupport",
            dependencies: [
                "CPOSIX", "CJobSandbox", "CompileCore", .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),
        // A swift-log handler writing a private (0600) log file: sshccd's and the mux daemon's.
        .target(
            name: "FileLogging",
            dependencies: ["POSIXSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        // sshccd's request loop and compiler runner.
        .target(
            name: "SSHCCServer",
            dependencies: [
                "DistccWire", "CompileCore", "ServerPolicy", "POSIXSupport", "FileLogging", "Toolchains", "ObjectCache",
                // Naming the key a client logged in with (ClientIdentity): certificates, fingerprints.
                "KnownHostsFormat", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // The wrapper ↔ mux daemon protocol and the scheduler's rules, pure: no sockets, threads or clocks.
        .target(
            name: "MuxCore",
            dependencies: ["CompileCore", "DistccWire"],
            swiftSettings: strict),
        // The per-user mux daemon: host drivers that own the SSH sessions, the dispatcher, the socket.
        .target(
            name: "SSHCCMux",
            dependencies: [
                "DistccWire", "WireCompression", "CompileCore", "POSIXSupport", "SSH", "MuxCore", "FileLogging",
                "OpenSSHConfig", "KnownHostsFormat", "Toolchains", "ObjectCache",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict),
        // The wrapper: decide, preprocess, hand the job to the mux daemon, write results, fall back.
        .target(
            name: "SSHCCClient",
            dependencies: ["CompileCore", "POSIXSupport", "MuxCore", "CPOSIX", "PreprocessedText", "Toolchains"],
            swiftSettings: strict),
        // The wrapper starts once per compile: a release build links it statically (no shared libraries to map
        // and relocate) and it is ready ~1 ms sooner (Docs/performance.md). Debug builds stay dynamic: the
        // test bundle links the executable's code and cannot be static.
        .executableTarget(
            name: "sshcc", dependencies: ["SSHCCClient", "POSIXSupport"], swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"], .when(configuration: .release))]),
        .executableTarget(
            name: "sshcc-mux",
            dependencies: [
                "SSHCCMux", "MuxCore", "POSIXSupport", "CompileCore", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        // sshd starts one sshccd per channel and an idle channel must cost little (Docs/scale.md): a release
        // sshccd is linked at a fixed address, so the static Swift runtime's ~1 MB of pointers is not
        // relocated (made private) in every process. The price, ASLR of the main image, is in Docs/security.md.
        .executableTarget(
            name: "sshccd",
            dependencies: [
                "SSHCCServer", "POSIXSupport", "CompileCore", "FileLogging",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(configuration: .release))]),

        // The fuzzer's view of sshccd's input handling (decoders, allow-list, source and assembly checks),
        // shared by Scripts/fuzz.sh and the fuzz regression tests.
        .target(
            name: "WireFuzzing",
            dependencies: ["DistccWire", "CompileCore", "ServerPolicy", "KnownHostsFormat", "MuxCore"],
            swiftSettings: strict),

        .target(
            name: "TestSupport",
            dependencies: ["POSIXSupport"],
            path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "DistccWireTests", dependencies: ["DistccWire", "WireFuzzing"], exclude: ["FuzzRegressions"],
            swiftSettings: strict),
        .testTarget(name: "CompileCoreTests", dependencies: ["CompileCore"], swiftSettings: strict),
        .testTarget(name: "ServerPolicyTests", dependencies: ["ServerPolicy", "CompileCore"], swiftSettings: strict),
        .testTarget(name: "KnownHostsFormatTests", dependencies: ["KnownHostsFormat", "SSH"], swiftSettings: strict),
        .testTarget(name: "OpenSSHConfigTests", dependencies: ["OpenSSHConfig"], swiftSettings: strict),
        .testTarget(
            name: "MuxCoreTests",
            dependencies: ["MuxCore", "DistccWire", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: strict),
        .testTarget(name: "ObjectCacheTests", dependencies: ["ObjectCache", "POSIXSupport"], swiftSettings: strict),
        .testTarget(name: "PreprocessedTextTests", dependencies: ["PreprocessedText"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "TestSupport", "DistccWire", "MuxCore", "POSIXSupport", "CompileCore", "ServerPolicy", "FileLogging",
                "SSHCCMux", "SSHCCClient", "SSHCCServer", "sshcc", "sshccd", "sshcc-mux", "ObjectCache",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
