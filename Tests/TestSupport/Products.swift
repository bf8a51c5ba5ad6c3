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
}
