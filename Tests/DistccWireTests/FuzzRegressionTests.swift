// Every input kept in FuzzRegressions/ (crashes the fuzzer found, named for what they broke, and hand-made
// edge cases) replayed through the fuzzer's harness: a crash or a broken invariant stops the test run.

import Foundation
import Testing
import WireFuzzing

@Suite struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    @Test func thereAreInputsToReplay() {
        #expect(!Self.inputs.isEmpty, "FuzzRegressions/ is missing from \(Self.directory.path)")
    }

    @Test(arguments: inputs)
    func replays(_ name: String) throws {
        let bytes = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        ServerInputHarness.run(Array(bytes))
    }
}
