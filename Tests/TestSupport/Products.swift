// Where the built executables are: beside the test bundle in SwiftPM's build directory.

import Foundation

public enum Products {
    /// The build products directory (`.build/<triple>/debug`).
    public static let directory: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // On Linux the test runner is `.build/<triple>/debug/<package>PackageTests.xctest`.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("sshccd").path),
            directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.path
    }()

    public static var sshcc: String { directory + "/sshcc" }
    public static var sshccd: String { directory + "/sshccd" }
    public static var sshccMux: String { directory + "/sshcc-mux" }

    /// The package's source tree (for its scripts and example files).
    public static let package: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
}

/// sshcc's gcc plugin, built once per test process into a directory of its own (Scripts/build-gcc-plugin.sh
/// with this package's source), for the sshccd of every test server.
public enum GCCPluginBuild {
    public static let directory: String = {
        let output = NSTemporaryDirectory() + "sshcc-test-plugins-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let script = Products.package + "/Scripts/build-gcc-plugin.sh"
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [script, output, "gcc"]
        build.standardOutput = FileHandle.nullDevice
        try? build.run()
        build.waitUntilExit()
        // A failed build leaves the directory without a plugin: the -g identity tests then fail, loudly.
        atexit { _ = try? FileManager.default.removeItem(atPath: GCCPluginBuild.directory) }
        return output
    }()
}
