import Foundation
import Testing

/// `oml-lint` as a new user meets it: bad flags, missing files, odd input, pipes.
@Suite final class LintCommandTests {
    let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("oml-lint-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    deinit { try? FileManager.default.removeItem(at: scratch) }

    func write(_ name: String, _ data: Data) throws -> String {
        let url = scratch.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url.path
    }

    static let valid = """
        oml_version: "0.1.0"
        name: orders-to-csv
        steps:
          - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
          - {id: write, component: filesystem.csv_writer, mode: write, needs: [extract], config: {path: out.csv}}

        """

    @Test func missingFileExits66NamingThePath() throws {
        let run = try ToolHarness.run("oml-lint", ["no/such/file.oml"])
        #expect(run.status == 66)
        #expect(run.stderr == "oml-lint: error: cannot read 'no/such/file.oml': No such file or directory\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func missingFileDoesNotStopTheOthers() throws {
        let bad = try write("bad.oml", Data("oml_version: 1\n".utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", "missing.oml", bad])
        #expect(run.status == 66)
        #expect(try ToolHarness.jsonLines(run.stdout).count == 3)
    }

    @Test func unknownFlagExits64() throws {
        let run = try ToolHarness.run("oml-lint", ["--frobnicate"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("Unknown option '--frobnicate'"))
    }

    @Test func badFormatValueExits64() throws {
        let run = try ToolHarness.run("oml-lint", ["--format", "xml", "x.oml"])
        #expect(run.status == 64)
    }

    @Test func explainOfUnknownCodeExits64WithSuggestion() throws {
        let run = try ToolHarness.run("oml-lint", ["--explain", "OML14"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("unknown rule 'OML14'"))
    }

    @Test func missingConnectionsFileExits66() throws {
        let file = try write("ok.oml", Data(Self.valid.utf8))
        let run = try ToolHarness.run("oml-lint", ["--connections", "nowhere.yaml", file])
        #expect(run.status == 66)
        #expect(run.stderr.contains("nowhere.yaml"))
    }

    @Test func brokenConnectionsFileExits78WithPosition() throws {
        let connections = try write("conn.yaml", Data("version: 1\nconnections:\n  pg: [a, b]\n".utf8))
        let file = try write("ok2.oml", Data(Self.valid.utf8))
        let run = try ToolHarness.run("oml-lint", ["--connections", connections, file])
        #expect(run.status == 78)
        #expect(run.stderr.contains("conn.yaml:3:7: family 'pg' must map aliases to their fields"))
    }

    @Test func undecodableSnapshotExits65() throws {
        let snapshot = try write("snap.json", Data("{\"snapshot_version\": 1,".utf8))
        let file = try write("ok3.oml", Data(Self.valid.utf8))
        let run = try ToolHarness.run("oml-lint", ["--snapshot", snapshot, file])
        #expect(run.status == 65)
        #expect(run.stderr.contains("snap.json:1:"))
    }

    @Test func connectionsFileIsFoundInTheWorkingDirectory() throws {
        _ = try write("cwd/osiris_connections.yaml", Data("version: 1\nconnections:\n  pg:\n    shop: {default: true}\n".utf8))
        _ = try write("cwd/p.oml", Data("""
            oml_version: "0.1.0"
            name: p
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {connection: "@pg.other", table: t}}

            """.utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", "p.oml"], in: scratch.appendingPathComponent("cwd"))
        #expect(run.status == 1)
        #expect(try ToolHarness.jsonLines(run.stdout).map { $0["code"] as? String } == ["OML301"])
    }

    @Test func emptyFileIsOML003() throws {
        let file = try write("empty.oml", Data())
        let run = try ToolHarness.run("oml-lint", ["--format", "json", file])
        #expect(run.status == 1)
        let findings = try ToolHarness.jsonLines(run.stdout)
        #expect(findings.map { $0["code"] as? String } == ["OML003"])
        #expect(findings.first?["line"] as? Int == 1)
        #expect(findings.first?["column"] as? Int == 1)
    }

    @Test func binaryFileIsOML001() throws {
        var bytes = Data([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00])
        bytes.append(Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }))
        let file = try write("binary.oml", bytes)
        let run = try ToolHarness.run("oml-lint", ["--format", "json", file])
        #expect(run.status == 1)
        #expect(try ToolHarness.jsonLines(run.stdout).map { $0["code"] as? String } == ["OML001"])
    }

    @Test func tenMegabyteFileIsLinted() throws {
        var text = "oml_version: \"0.1.0\"\nname: big\nsteps:\n"
        var index = 0
        while text.utf8.count < 10_000_000 {
            text += "  - {id: e\(index), component: postgres.extractor, mode: read, config: {table: orders}}\n"
            index += 1
        }
        let file = try write("big.oml", Data(text.utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", file])
        #expect(run.status == 0)
        #expect(run.stdout.isEmpty)
    }

    @Test func deeplyNestedYAMLIsADiagnosticNotACrash() throws {
        let depth = 100_000
        let text = "oml_version: \"0.1.0\"\nname: deep\nmetadata: " + String(repeating: "[", count: depth)
            + String(repeating: "]", count: depth) + "\nsteps: []\n"
        let file = try write("deep.oml", Data(text.utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", file])
        #expect(run.status == 1)
        let findings = try ToolHarness.jsonLines(run.stdout)
        #expect(findings.map { $0["code"] as? String } == ["OML001"])
        #expect(findings.first?["line"] as? Int == 3)
    }

    @Test func stdinWithAFileName() throws {
        let run = try ToolHarness.run(
            "oml-lint", ["--format", "json", "--stdin-filename", "pipelines/p.oml", "-"], stdin: Data("oml_version: 2\n".utf8))
        #expect(run.status == 1)
        let findings = try ToolHarness.jsonLines(run.stdout)
        #expect(findings.allSatisfy { $0["file"] as? String == "pipelines/p.oml" })
        #expect(findings.count == 3)
    }

    @Test func directoriesAreRecursedForOMLFilesOnly() throws {
        _ = try write("tree/a.oml", Data(Self.valid.utf8))
        _ = try write("tree/sub/b.oml.yaml", Data("oml_version: 1\n".utf8))
        _ = try write("tree/sub/c.oml.yml", Data(Self.valid.utf8))
        _ = try write("tree/sub/notes.yaml", Data("not: [oml\n".utf8))
        _ = try write("tree/.hidden/d.oml", Data("broken: [\n".utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", "tree"], in: scratch)
        #expect(run.status == 1)
        let files = Set(try ToolHarness.jsonLines(run.stdout).compactMap { $0["file"] as? String })
        #expect(files == ["tree/sub/b.oml.yaml"])
    }

    @Test func manyFilesKeepTheirOrder() throws {
        var paths: [String] = []
        for index in 0..<40 {
            paths.append(try write("many/p\(index).oml", Data("oml_version: \(index)\nname: p\nsteps: []\n".utf8)))
        }
        let run = try ToolHarness.run("oml-lint", ["--format", "json"] + paths)
        let files = try ToolHarness.jsonLines(run.stdout).compactMap { $0["file"] as? String }
        var order: [String] = []
        for file in files where order.last != file { order.append(file) }
        #expect(order == paths)
    }

    @Test func strictFailsOnWarnings() throws {
        let file = try write("warn.oml", Data(Self.valid.replacingOccurrences(of: "orders-to-csv", with: "Orders").utf8))
        #expect(try ToolHarness.run("oml-lint", [file]).status == 0)
        #expect(try ToolHarness.run("oml-lint", ["--strict", file]).status == 1)
    }

    @Test func closedPipeEndsQuietlyWithStatusZero() throws {
        var paths: [String] = []
        for index in 0..<200 {
            paths.append(try write("pipe/p\(index).oml", Data("oml_version: 1\nversion: 2\ntasks: []\n".utf8)))
        }
        let process = Process()
        process.executableURL = ToolHarness.binDirectory.appendingPathComponent("oml-lint")
        process.arguments = paths
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try output.fileHandleForReading.close()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(errors.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }

    @Test func explainCoversEveryRule() throws {
        let list = try ToolHarness.run("oml-lint", ["--list-rules", "--format", "json"])
        let rules = try ToolHarness.jsonLines(list.stdout)
        #expect(rules.count >= 39)
        for rule in rules {
            let code = try #require(rule["code"] as? String)
            let run = try ToolHarness.run("oml-lint", ["--explain", code])
            #expect(run.status == 0)
            #expect(run.stdout.hasPrefix("\(code) "))
            #expect(run.stdout.count > 100)
        }
    }

    @Test func manPagesCoverEveryCodeAndFlag() throws {
        let root = ToolHarness.repositoryRoot
        let format = try String(contentsOf: root.appendingPathComponent("man/oml.5"), encoding: .utf8)
        let page = try String(contentsOf: root.appendingPathComponent("man/oml-lint.1"), encoding: .utf8)
        let rules = try ToolHarness.jsonLines(try ToolHarness.run("oml-lint", ["--list-rules", "--format", "json"]).stdout)
        for rule in rules {
            let code = try #require(rule["code"] as? String)
            #expect(format.contains(code), "man/oml.5 does not list \(code)")
        }
        let help = try ToolHarness.run("oml-lint", ["--help"]).stdout
        let flags = Set(help.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "-" })
            .filter { $0.hasPrefix("--") && $0.count > 2 }.map(String.init))
        #expect(flags.contains("--format"))
        for flag in flags {
            #expect(page.contains("Fl -\(flag.dropFirst(2))"), "man/oml-lint.1 does not document \(flag)")
        }
    }

    /// The statuses of a man page's EXIT STATUS section, in order.
    static func exitStatuses(inManPage page: String) -> [String] {
        let section = page.components(separatedBy: ".Sh EXIT STATUS").dropFirst().first?.components(separatedBy: "\n.Sh ").first ?? ""
        return section.split(separator: "\n").filter { $0.hasPrefix(".It ") }.map { String($0.dropFirst(4)) }
            .filter { $0.allSatisfy(\.isNumber) }
    }

    @Test(arguments: ["oml-lint", "oml-compile"])
    func helpListsEveryExitStatusOfTheManPage(_ tool: String) throws {
        let page = try String(contentsOf: ToolHarness.repositoryRoot.appendingPathComponent("man/\(tool).1"), encoding: .utf8)
        let statuses = Self.exitStatuses(inManPage: page)
        #expect(statuses.count >= 7)
        let help = try ToolHarness.run(tool, ["--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for status in statuses {
            #expect(help.contains(" \(status) ") || help.contains("status: \(status) "), "\(tool) --help does not list exit status \(status)")
        }
    }

    static let originalToolPipeline = """
        oml_version: "0.1.0"
        name: copy-orders
        steps:
          - {id: extract, component: postgres.extractor, mode: read, config: {table: orders}}
          - {id: write, component: filesystem.csv_writer, mode: write, needs: [extract], config: {path: out.csv}}

        """

    @Test func aFolderOfYAMLPipelinesIsLinted() throws {
        _ = try write("pipelines/good.yaml", Data(Self.originalToolPipeline.utf8))
        _ = try write("pipelines/nested/broken.yml", Data("oml_version: \"0.1.0\"\nname: broken\nsteps: []\n".utf8))
        _ = try write("pipelines/osiris_connections.yaml", Data("version: 1\nconnections: {}\n".utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", "pipelines"], in: scratch)
        #expect(run.status == 1)
        let findings = try ToolHarness.jsonLines(run.stdout).map { "\($0["file"] as? String ?? "")@\($0["code"] as? String ?? "")" }
        #expect(findings == ["pipelines/nested/broken.yml@OML020"])
        #expect(run.stderr.isEmpty)
    }

    @Test func besideOMLFilesOnlyYAMLWithOMLVersionIsLintedAndTheRestIsCounted() throws {
        _ = try write("mixed/a.oml", Data(Self.valid.utf8))
        _ = try write("mixed/b.yaml", Data(Self.originalToolPipeline.replacingOccurrences(of: "copy-orders", with: "Copy Orders").utf8))
        _ = try write("mixed/ci.yml", Data("jobs: {}\n".utf8))
        _ = try write("mixed/deploy/values.yaml", Data("replicas: 2\n".utf8))
        let run = try ToolHarness.run("oml-lint", ["--format", "json", "mixed"], in: scratch)
        #expect(run.status == 0)
        let findings = try ToolHarness.jsonLines(run.stdout).map { "\($0["file"] as? String ?? "")@\($0["code"] as? String ?? "")" }
        #expect(findings == ["mixed/b.yaml@OML015"])
        #expect(run.stderr == "oml-lint: note: skipped 2 .yaml/.yml files below 'mixed' without a top-level 'oml_version' key\n")
    }
}
