// The private log file itself: made 0600, refused when it is not this user's regular file, and rotated to
// PATH.old once it passes its size, one old file kept.

import FileLogging
import Foundation
import Logging
import POSIXSupport
import TestSupport
import Testing

@Suite struct LogFileTests {
    @Test func aFullLogIsRotatedOnce() throws {
        let directory = try TemporaryDirectory("log-rotation")
        let path = directory.path + "/logs/x.log"
        var bounds = LogBounds()
        bounds.fileBytes = 2000
        bounds.burstLines = 1000
        let logger = Logger(label: "t") { FileLogHandler(label: $0, path: path, bounds: bounds) }
        for index in 0..<100 { logger.info("line \(index) \(String(repeating: "x", count: 40))") }
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let old = try String(contentsOfFile: path + ".old", encoding: .utf8)
        #expect(current.utf8.count < 2000 + 200 && old.utf8.count >= 2000)
        #expect(current.contains("line 99 "), "the newest line is in the current file")
        #expect(!FileManager.default.fileExists(atPath: path + ".old.old"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A FIFO (or anything but a regular file) at the log's path is not opened: writing to it would block.
    @Test func aFifoInPlaceOfTheLogIsNotWritten() throws {
        let directory = try TemporaryDirectory("log-fifo")
        let path = directory.path + "/x.log"
        #expect(mkfifo(path, 0o600) == 0)
        let planted = AppendFile.open(path) != nil
        let fine = AppendFile.open(directory.path + "/fine.log") != nil
        #expect(!planted && fine)
    }
}
