import Foundation
import Testing

/// The inputs osiris-fuzz found (Tests/Fuzz/TARGET/*.input, see its README) replayed through the same
/// target: none may crash or be rejected otherwise than documented any more.
@Suite struct FuzzRegressionTests {
    static let root = ToolHarness.repositoryRoot.appendingPathComponent("Tests/Fuzz")
    static let targets = ["oml", "manifest", "snapshot", "connections", "worker"]

    @Test(arguments: targets)
    func foundInputsNoLongerFail(target: String) throws {
        let folder = Self.root.appendingPathComponent(target)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".input") }.sorted().map { folder.appendingPathComponent($0).path }
        guard !files.isEmpty else { return }
        let crashes = FileManager.default.temporaryDirectory.appendingPathComponent("osiris-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: crashes) }
        let exec = ToolHarness.binDirectory.appendingPathComponent("osiris-exec").path
        let run = try ToolHarness.run(
            "osiris-fuzz", ["--replay", target] + files + ["--root", ToolHarness.repositoryRoot.path, "--crash-dir", crashes.path, "--exec", exec])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "fuzz \(target) replay: \(target == "worker" ? "\(try lineCount(files))" : "\(files.count)") inputs, 0 failures\n")
    }

    private func lineCount(_ files: [String]) throws -> Int {
        try files.reduce(0) { $0 + (try String(contentsOfFile: $1, encoding: .utf8)).split(separator: "\n").count }
    }
}
