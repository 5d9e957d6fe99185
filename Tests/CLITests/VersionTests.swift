import Foundation
import Testing

/// `--version` alone is answered before the flag parser runs (a start-up cost, bench/startup): the
/// answer must stay the one line ArgumentParser would print, on stdout, with status 0.
@Suite struct VersionTests {
    @Test(arguments: ["oml-lint", "oml-compile", "osiris-exec", "osiris-discover", "osiris-chat"])
    func versionIsOneLine(_ tool: String) throws {
        let run = try ToolHarness.run(tool, ["--version"])
        #expect(run.status == 0)
        #expect(run.stderr == "")
        let words = run.stdout.split(separator: " ")
        #expect(words.count == 2 && words[0] == tool, "\(run.stdout)")
        #expect(run.stdout.hasSuffix("\n") && run.stdout.filter { $0 == "\n" }.count == 1, "\(run.stdout)")
        let version = words.last.map { $0.dropLast() } ?? ""
        #expect(version.split(separator: ".").count == 3 && version.allSatisfy { $0.isNumber || $0 == "." }, "\(run.stdout)")
    }

    /// With another argument `--version` goes through ArgumentParser, which prints the same line.
    @Test(arguments: ["oml-lint", "oml-compile", "osiris-exec", "osiris-discover", "osiris-chat"])
    func parserPrintsTheSameLine(_ tool: String) throws {
        let fast = try ToolHarness.run(tool, ["--version"])
        let parsed = try ToolHarness.run(tool, ["--version", "-"])
        #expect(parsed.status == 0)
        #expect(parsed.stdout == fast.stdout)
    }
}
