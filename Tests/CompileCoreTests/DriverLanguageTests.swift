// Language.fromFileName(_:driver:) ↔ Language.swift, against what the real drivers do: for every driver name
// sshcc accepts that is installed here and every input suffix and `-x` form, `DRIVER -### -c FILE` shows the
// compiler proper it would run (gcc: cc1, cc1plus; clang: `-cc1 … -x LANG`), and the plan must agree.

import CompileCore
import Foundation
import Testing

@Suite struct DriverLanguageTests {
    static let gccDrivers = [
        "gcc", "cc", "g++", "c++", "gcc-12", "g++-12", "x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-g++-12",
    ]
    static let clangDrivers = ["clang", "clang++"]
    static let inputs: [[String]] = [
        ["x.c"], ["x.i"], ["x.cc"], ["x.cp"], ["x.cxx"], ["x.cpp"], ["x.CPP"], ["x.c++"], ["x.C"], ["x.ii"],
        ["-x", "c", "x.cc"], ["-x", "c++", "x.c"], ["-x", "cpp-output", "x.c"], ["-x", "c++-cpp-output", "x.c"],
        ["-x", "c", "x.txt"],
    ]
    static let clangOnlyInputs: [[String]] = [["x.m"], ["x.mm"], ["x.M"], ["x.mi"], ["x.mii"]]

    /// The language and preprocessed flag the driver's `-###` shows, nil when it runs no compiler proper.
    static func driverDecides(_ driver: String, _ input: [String], in directory: URL) throws -> (Language, Bool)? {
        _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(input.last!).path, contents: Data())
        let process = Process()
        process.currentDirectoryURL = directory
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [driver, "-###", "-c"] + input + ["-o", "/dev/null"]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in printed.split(separator: "\n") {
            let words = line.split(separator: " ").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                .filter { !$0.isEmpty }
            if let first = words.first {
                let program = (first as NSString).lastPathComponent
                let preprocessed = words.contains("-fpreprocessed")
                switch program {
                case "cc1": return (.c, preprocessed)
                case "cc1plus": return (.cxx, preprocessed)
                default: break
                }
            }
            if words.contains("-cc1"), let x = words.firstIndex(of: "-x"), x + 1 < words.count {
                return Language.fromXName(words[x + 1]).map { ($0.language, $0.preprocessed) }
            }
        }
        return nil
    }

    static func installed(_ driver: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(driver)")
        }
    }

    @Test func everyDriverAndInputAsTheDriverDecides() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sshcc-driver-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var checked = 0
        for driver in Self.gccDrivers + Self.clangDrivers where Self.installed(driver) {
            let inputs = Self.inputs + (Self.clangDrivers.contains(driver) ? Self.clangOnlyInputs : [])
            for input in inputs {
                let decided = try #require(
                    try Self.driverDecides(driver, input, in: directory), "\(driver) \(input): no compiler")
                guard case .distribute(let plan) = ArgScanner.scan([driver, "-c"] + input + ["-o", "x.o"]) else {
                    Issue.record("\(driver) \(input) runs locally")
                    continue
                }
                #expect(plan.language == decided.0, "\(driver) \(input.joined(separator: " "))")
                #expect(plan.sourceIsPreprocessed == decided.1, "\(driver) \(input.joined(separator: " "))")
                checked += 1
            }
        }
        // gcc, g++ and both clang drivers at least: the table is not vacuous on a machine with the toolchain.
        #expect(checked >= 4 * Self.inputs.count)
    }
}
