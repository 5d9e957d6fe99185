import Foundation
import OsirisCore
import Testing

@Suite struct AtomicFileTests {
    /// The process umask as the kernel reports it, read without changing it.
    private func currentUmask() throws -> mode_t {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
        return try #require(mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8))
    }

    /// Files written by many threads at once all get 0666 minus the umask, and the umask is left as it was.
    @Test func parallelWritersGetTheUsualPermissions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mask = try currentUmask()
        DispatchQueue.concurrentPerform(iterations: 16) { thread in
            for index in 0..<20 {
                _ = try? AtomicFile.write(Array("\(thread) \(index)\n".utf8), to: "\(folder)/f-\(thread)-\(index).txt")
            }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names.count == 320)
        #expect(names.allSatisfy { $0.hasPrefix("f-") })
        for name in names {
            var info = stat()
            #expect(stat("\(folder)/\(name)", &info) == 0)
            #expect(info.st_mode & 0o777 == 0o666 & ~mask)
        }
        #expect(try currentUmask() == mask)
        #expect(try String(contentsOfFile: "\(folder)/f-3-7.txt", encoding: .utf8) == "3 7\n")
    }

    /// A temporary file never committed is removed, leaving the folder as it was.
    @Test func uncommittedFileLeavesNothing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let file = try AtomicOutputFile(path: folder + "/out.csv")
            try file.write(Array("x\n".utf8))
            #expect(file.temporaryPath.hasPrefix(folder + "/.out.csv.osiris-"))
            #expect(FileManager.default.fileExists(atPath: file.temporaryPath))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [])
    }

    /// A temporary file nobody locks (its writer was killed) is removed by the next writer of the same
    /// target; one a live writer holds, and those of other targets, stay.
    @Test func abandonedTemporaryFilesOfTheTargetAreRemoved() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(FileManager.default.createFile(atPath: folder + "/.out.csv.osiris-dead01", contents: Data("partial".utf8)))
        #expect(FileManager.default.createFile(atPath: folder + "/.other.csv.osiris-dead02", contents: nil))
        let live = try AtomicOutputFile(path: folder + "/out.csv")
        let liveName = String(live.temporaryPath.split(separator: "/").last!)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [".other.csv.osiris-dead02", liveName].sorted())
        let second = try AtomicOutputFile(path: folder + "/out.csv")
        try second.write(Array("new\n".utf8))
        try second.commit()
        let secondName = String(second.temporaryPath.split(separator: "/").last!)
        #expect(secondName != liveName)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [".other.csv.osiris-dead02", liveName, "out.csv"].sorted())
        try live.write(Array("live\n".utf8))
        try live.commit()
        #expect(try String(contentsOfFile: folder + "/out.csv", encoding: .utf8) == "live\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [".other.csv.osiris-dead02", "out.csv"])
    }
}
