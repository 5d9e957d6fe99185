import Foundation
import Testing

/// Runs every case of `../shared/conformance/` exactly as its README says.
@Suite struct ConformanceTests {
    static let lintCases: [String] = {
        let folder = ToolHarness.conformanceDirectory.appendingPathComponent("lint")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".oml") }.sorted()
    }()

    static let anchorExamples: [String] = {
        let folder = ToolHarness.conformanceDirectory.appendingPathComponent("anchor-examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }()

    /// The command of the README, relative to the repository root as written there.
    static func lintArguments(_ file: String) -> [String] {
        let base = ToolHarness.conformanceDirectory.path
        return ["--format", "json", "--connections", "\(base)/osiris_connections.yaml",
                "--snapshot", "\(base)/snapshot.json", file]
    }

    /// The `# expect: CODE[,CODE...]` markers as a multiset of "CODE@LINE".
    static func expectations(in text: String) -> [String] {
        var result: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let range = line.range(of: "# expect:") else { continue }
            let codes = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            for code in codes.split(separator: ",") {
                result.append("\(code.trimmingCharacters(in: .whitespaces))@\(index + 1)")
            }
        }
        return result.sorted()
    }

    @Test func theSuiteIsPresent() {
        #expect(Self.lintCases.count >= 20, "conformance cases not found in \(ToolHarness.conformanceDirectory.path)")
        #expect(Self.anchorExamples.count >= 5)
    }

    @Test(arguments: lintCases)
    func lintCase(_ name: String) throws {
        let path = ToolHarness.conformanceDirectory.appendingPathComponent("lint/\(name)").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let expected = Self.expectations(in: text)
        let run = try ToolHarness.run("oml-lint", Self.lintArguments(path))
        let findings = try ToolHarness.jsonLines(run.stdout)
        let actual = findings.map { "\($0["code"] as? String ?? "?")@\($0["line"] as? Int ?? 0)" }.sorted()
        #expect(actual == expected, "stderr: \(run.stderr)")
        for finding in findings {
            #expect(finding["file"] as? String == path)
            for key in ["code", "severity", "message", "file", "line", "column", "end_line", "end_column", "help"] {
                #expect(finding.keys.contains(key), "missing \(key)")
            }
        }
        let expectsError = findings.contains { $0["severity"] as? String == "error" }
        #expect(run.status == (expectsError ? 1 : 0))
        #expect(run.stderr.isEmpty)
    }

    @Test(arguments: anchorExamples)
    func anchorExampleHasNoFinding(_ name: String) throws {
        let path = ToolHarness.conformanceDirectory.appendingPathComponent("anchor-examples/\(name)").path
        let run = try ToolHarness.run("oml-lint", Self.lintArguments(path))
        #expect(run.stdout.isEmpty)
        #expect(run.status == 0)
    }
}
