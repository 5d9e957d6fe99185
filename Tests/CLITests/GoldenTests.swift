import Foundation
import Testing

/// Golden CLI cases under `Tests/Golden/<tool>/<case>/`: `args` (one argument per line), optional
/// `stdin`, and the expected `stdout`, `stderr` and `status`. The tool runs inside the case folder.
/// `OSIRIS_RECORD_GOLDENS=1` rewrites the expectations and fails, so the diff gets reviewed.
@Suite struct GoldenTests {
    static let root = ToolHarness.repositoryRoot.appendingPathComponent("Tests/Golden")

    static let cases: [String] = {
        var result: [String] = []
        let tools = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for tool in tools.sorted() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(tool).path)) ?? []
            result += names.sorted().map { "\(tool)/\($0)" }
        }
        return result
    }()

    @Test func casesExist() {
        #expect(Self.cases.count >= 10)
    }

    @Test(arguments: cases)
    func golden(_ name: String) throws {
        let folder = Self.root.appendingPathComponent(name)
        let tool = String(name.split(separator: "/")[0])
        func read(_ file: String) -> String? {
            try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
        let arguments = (read("args") ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.isEmpty }
        let stdin = FileManager.default.contents(atPath: folder.appendingPathComponent("stdin").path)
        let run = try ToolHarness.run(tool, arguments, in: folder, stdin: stdin ?? Data())
        let status = "\(run.status)\n"
        if ProcessInfo.processInfo.environment["OSIRIS_RECORD_GOLDENS"] == "1" {
            try run.stdout.write(to: folder.appendingPathComponent("stdout"), atomically: true, encoding: .utf8)
            try run.stderr.write(to: folder.appendingPathComponent("stderr"), atomically: true, encoding: .utf8)
            try status.write(to: folder.appendingPathComponent("status"), atomically: true, encoding: .utf8)
            Issue.record("recorded \(name); review the diff and run again without OSIRIS_RECORD_GOLDENS")
            return
        }
        #expect(firstDifference(run.stdout, read("stdout") ?? "") == nil, "stdout of \(name)")
        #expect(firstDifference(run.stderr, read("stderr") ?? "") == nil, "stderr of \(name)")
        #expect(status == read("status") ?? "0\n", "exit status of \(name)")
    }
}

/// The first line where `actual` and `expected` differ, quoted both ways, or nil when they are equal;
/// short enough to read in a failure message, unlike a whole SARIF log.
func firstDifference(_ actual: String, _ expected: String) -> String? {
    guard actual != expected else { return nil }
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(actualLines.count, expectedLines.count) {
        let got = index < actualLines.count ? String(actualLines[index]) : "<end>"
        let want = index < expectedLines.count ? String(expectedLines[index]) : "<end>"
        if got != want {
            return "line \(index + 1):\n  got:  \(got.prefix(300))\n  want: \(want.prefix(300))"
        }
    }
    return "the outputs differ in their final newline"
}
