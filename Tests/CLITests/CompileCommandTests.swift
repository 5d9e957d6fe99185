import Foundation
import Testing

/// `oml-compile` from the command line: goldens, determinism, -o, --check, --depfile, make.
@Suite final class CompileCommandTests {
    let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("oml-compile-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    deinit { try? FileManager.default.removeItem(at: scratch) }

    static let conformance = ToolHarness.conformanceDirectory
    static let connections = conformance.appendingPathComponent("osiris_connections.yaml").path

    /// Every valid conformance case and every anchor example, by path below the conformance folder.
    static let compilable: [String] = {
        let lint = (try? FileManager.default.contentsOfDirectory(atPath: conformance.appendingPathComponent("lint").path)) ?? []
        let anchors = (try? FileManager.default.contentsOfDirectory(atPath: conformance.appendingPathComponent("anchor-examples").path)) ?? []
        return lint.filter { $0.hasPrefix("valid-") || $0 == "suppressed.oml" }.sorted().map { "lint/\($0)" }
            + anchors.sorted().map { "anchor-examples/\($0)" }
    }()

    /// Conformance cases with an error finding.
    static let invalid: [String] = {
        let lint = (try? FileManager.default.contentsOfDirectory(atPath: conformance.appendingPathComponent("lint").path)) ?? []
        return lint.filter { $0.hasPrefix("oml") && $0 != "oml012-013-015.oml" }.sorted().map { "lint/\($0)" }
    }()

    /// The absolute path of a program found on `PATH`, as a shell would find it.
    static func onPath(_ program: String) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        let found = directories.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "\(program) is not on PATH")
    }

    @Test func theCasesAreThere() {
        #expect(Self.compilable.count >= 9)
        #expect(Self.invalid.count >= 18)
    }

    /// Golden manifests in `Tests/GoldenManifests/`; `OSIRIS_RECORD_GOLDENS=1` rewrites them.
    @Test(arguments: compilable)
    func goldenManifest(_ name: String) throws {
        let path = Self.conformance.appendingPathComponent(name).path
        let run = try ToolHarness.run("oml-compile", ["--connections", Self.connections, path])
        #expect(run.status == 0, "\(run.stderr)")
        let golden = ToolHarness.repositoryRoot.appendingPathComponent(
            "Tests/GoldenManifests/\(name.replacingOccurrences(of: "/", with: "--")).manifest.json")
        if ProcessInfo.processInfo.environment["OSIRIS_RECORD_GOLDENS"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try run.stdoutBytes.write(to: golden)
            Issue.record("recorded \(golden.lastPathComponent); review it and run again without OSIRIS_RECORD_GOLDENS")
            return
        }
        let expected = try Data(contentsOf: golden)
        #expect(firstDifference(run.stdout, String(decoding: expected, as: UTF8.self)) == nil)
    }

    @Test(arguments: invalid)
    func invalidCaseGivesTheLintDiagnostics(_ name: String) throws {
        let path = Self.conformance.appendingPathComponent(name).path
        let flags = ["--format", "json", "--connections", Self.connections, "--snapshot",
                     Self.conformance.appendingPathComponent("snapshot.json").path, path]
        let compile = try ToolHarness.run("oml-compile", flags)
        let lint = try ToolHarness.run("oml-lint", flags)
        #expect(compile.status == 1)
        #expect(compile.stdout.isEmpty)
        #expect(compile.stderr == lint.stdout)
    }

    @Test func sameBytesFromAnotherDirectoryAndAnyPathForm() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-dag.oml")
        let copy = scratch.appendingPathComponent("nested/dir/dag.oml")
        try FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: copy)
        let absolute = try ToolHarness.run("oml-compile", ["--connections", Self.connections, copy.path])
        let relative = try ToolHarness.run("oml-compile", ["--connections", Self.connections, "dir/dag.oml"], in: scratch.appendingPathComponent("nested"))
        let again = try ToolHarness.run("oml-compile", ["--connections", Self.connections, "dag.oml"], in: copy.deletingLastPathComponent())
        #expect(absolute.status == 0)
        #expect(absolute.stdoutBytes == relative.stdoutBytes)
        #expect(absolute.stdoutBytes == again.stdoutBytes)
        #expect(!absolute.stdout.contains(scratch.path))
        let stdin = try ToolHarness.run("oml-compile", ["--connections", Self.connections, "-"], stdin: try Data(contentsOf: source))
        #expect(stdin.stdoutBytes == absolute.stdoutBytes)
    }

    @Test func outputIsLeftUntouchedWhenUnchanged() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-minimal.oml").path
        let output = scratch.appendingPathComponent("m.json").path
        #expect(try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", output]).status == 0)
        let past = Date(timeIntervalSince1970: 1_000_000_000)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: output)
        let second = try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", output])
        #expect(second.status == 0)
        #expect(second.stdout.isEmpty)
        let attributes = try FileManager.default.attributesOfItem(atPath: output)
        #expect(attributes[.modificationDate] as? Date == past)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".osiris-") }
        #expect(leftovers.isEmpty)
    }

    @Test func checkExitsOneWithoutWritingWhenTheOutputWouldChange() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-params-profiles.oml").path
        let output = scratch.appendingPathComponent("check.json").path
        let missing = try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", output, "--check"])
        #expect(missing.status == 1)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", output]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", output, "--check"]).status == 0)
        let changed = try ToolHarness.run(
            "oml-compile", ["--connections", Self.connections, source, "-o", output, "--check", "--param", "limit=3"])
        #expect(changed.status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
    }

    @Test func depfileNamesTheOutputAndEveryInput() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-minimal.oml").path
        let output = scratch.appendingPathComponent("out dir/m.json")
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        let depfile = scratch.appendingPathComponent("m.d").path
        let run = try ToolHarness.run(
            "oml-compile", ["--connections", Self.connections, source, "-o", output.path, "--depfile", depfile])
        #expect(run.status == 0)
        let rule = try String(contentsOfFile: depfile, encoding: .utf8)
        let escapedOutput = output.path.replacingOccurrences(of: " ", with: "\\ ")
        #expect(rule == "\(escapedOutput): \(source) \(Self.connections)\n")
    }

    @Test func usageErrors() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-params-profiles.oml").path
        let profile = try ToolHarness.run("oml-compile", [source, "--profile", "staging"])
        #expect(profile.status == 64)
        #expect(profile.stderr.hasPrefix("oml-compile: error: unknown profile 'staging'; declared profiles: prod\n"))
        #expect(try ToolHarness.run("oml-compile", [source, "--param", "limit=lots"]).status == 64)
        #expect(try ToolHarness.run("oml-compile", [source, "--check"]).status == 64)
        #expect(try ToolHarness.run("oml-compile", [source, "--bogus"]).status == 64)
        #expect(try ToolHarness.run("oml-compile", [source], environment: ["OSIRIS_PARAM_LIMIT": "x"]).status == 78)
        let missing = try ToolHarness.run("oml-compile", ["nowhere.oml"])
        #expect(missing.status == 66)
        #expect(missing.stderr == "oml-compile: error: cannot read 'nowhere.oml': No such file or directory\n")
    }

    @Test func unwritableOutputExits73() throws {
        let source = Self.conformance.appendingPathComponent("lint/valid-minimal.oml").path
        let run = try ToolHarness.run("oml-compile", ["--connections", Self.connections, source, "-o", "/nonexistent/dir/m.json"])
        #expect(run.status == 73)
        #expect(run.stderr.contains("cannot write '/nonexistent/dir/m.json'"))
    }

    @Test func strictRefusesWarnings() throws {
        let warned = scratch.appendingPathComponent("w.oml")
        try Data("""
            oml_version: "0.1.0"
            name: Warned
            steps: [{id: a, component: postgres.extractor, mode: read, config: {table: orders}}]

            """.utf8).write(to: warned)
        let lenient = try ToolHarness.run("oml-compile", [warned.path])
        #expect(lenient.status == 0)
        #expect(lenient.stderr.contains("[OML015]"))
        let strict = try ToolHarness.run("oml-compile", ["--strict", warned.path])
        #expect(strict.status == 1)
        #expect(strict.stdout.isEmpty)
    }

    /// Documents crafted to pass lint through suppression comments: each is refused with a diagnostic
    /// and exit 1, quickly, never with a signal.
    @Test(arguments: [
        ("  - id: e\n    # oml-lint: disable=OML200\n    component: nope.extractor\n    mode: read\n", "OML200"),
        ("  - {id: e, component: postgres.extractor, mode: read, config: {table: t}}\n"
            + "  # oml-lint: disable=OML105\n  - {id: p, component: sqlite.processor, mode: transform, needs: [e, p], config: {query: select 1}}\n", "OML105"),
        ("  - {id: e, component: postgres.extractor, mode: read, config: {table: t}}\n"
            + "  # oml-lint: disable=OML102\n  - {id: e, component: postgres.extractor, mode: read, config: {table: t}}\n", "OML102"),
        ("  # oml-lint: disable=OML106\n  - {id: e, component: postgres.extractor, mode: reed, config: {table: t}}\n", "OML106"),
        ("  # oml-lint: disable=OML202\n  - {id: e, component: postgres.extractor, mode: read, config: {limit: 5}}\n", "OML202"),
        ("  # oml-lint: disable=OML203\n  - {id: e, component: postgres.extractor, mode: read, config: {table: t, limit: x}}\n", "OML203"),
        ("  - {id: e, component: postgres.extractor, mode: read, config: {table: t}}\n"
            + "  # oml-lint: disable=OML104\n  - {id: w, component: filesystem.csv_writer, mode: write, needs: [x], config: {path: o.csv}}\n", "OML104"),
    ])
    func suppressedManifestRulesAreRefused(_ body: String, _ code: String) throws {
        let text = "oml_version: \"0.1.0\"\nname: crafted\nsteps:\n" + body
        let started = Date()
        let run = try ToolHarness.run("oml-compile", ["--format", "json", "-"], stdin: Data(text.utf8))
        #expect(Date().timeIntervalSince(started) < 1)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let codes = try ToolHarness.jsonLines(run.stderr).compactMap { $0["code"] as? String }
        #expect(codes.contains(code), "\(run.stderr)")
        #expect(codes.contains("OML004"), "\(run.stderr)")
    }

    @Test func anUnrunnableComponentIsAWarningNamingTheAlternative() throws {
        let text = """
            oml_version: "0.1.0"
            name: old-style
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: t}}
              - {id: p, component: duckdb.processor, mode: transform, needs: [e], config: {query: select 1}}
              - {id: w, component: filesystem.csv_writer, mode: write, needs: [p], config: {path: o.csv}}
            """
        let run = try ToolHarness.run("oml-compile", ["--stdin-filename", "old.oml", "-"], stdin: Data(text.utf8))
        #expect(run.status == 0)
        #expect(!run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix(
            "old.oml:5:24: warning: step 'p' uses 'duckdb.processor', which this build of Osiris cannot run; osiris-exec will fail the step [OML206]"))
        #expect(run.stderr.contains("= help: use 'sqlite.processor' instead"))
        let lint = try ToolHarness.run("oml-lint", ["-"], stdin: Data(text.utf8))
        #expect(lint.status == 0)
        #expect(lint.stdout.isEmpty)
    }

    /// The literal blocks of a man page's source that contain `marker`.
    static func literalBlocks(ofManPage name: String, containing marker: String) throws -> [String] {
        let page = try String(contentsOf: ToolHarness.repositoryRoot.appendingPathComponent("man/\(name)"), encoding: .utf8)
        return page.components(separatedBy: ".Bd -literal").dropFirst()
            .compactMap { $0.components(separatedBy: "\n.Ed").first }
            .map { block in block.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n") + "\n" }
            .filter { $0.contains(marker) }
    }

    @Test func theManPagesMakefileWorksAsWritten() throws {
        let makefile = try #require(try Self.literalBlocks(ofManPage: "oml-compile.1", containing: "-include").first)
        let folder = scratch.appendingPathComponent("make-example")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
        try Data(makefile.utf8).write(to: folder.appendingPathComponent("Makefile"))
        try FileManager.default.copyItem(
            at: Self.conformance.appendingPathComponent("lint/valid-minimal.oml"), to: folder.appendingPathComponent("pipelines/recent.oml"))
        try FileManager.default.copyItem(atPath: Self.connections, toPath: folder.appendingPathComponent("osiris_connections.yaml").path)
        let path = ToolHarness.binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        let first = try ToolHarness.run(try Self.onPath("make"), ["--no-print-directory"], in: folder, environment: ["PATH": path])
        #expect(first.status == 0, "\(first.stderr)")
        let rule = try String(contentsOf: folder.appendingPathComponent("build/recent.d"), encoding: .utf8)
        #expect(rule == "build/recent.manifest.json: pipelines/recent.oml osiris_connections.yaml\n")
        let second = try ToolHarness.run(try Self.onPath("make"), ["--no-print-directory"], in: folder, environment: ["PATH": path])
        #expect(second.stdout == "make: Nothing to be done for 'all'.\n")
    }

    @Test func theManPagesDepfileExampleWorksAsWritten() throws {
        let example = try #require(try Self.literalBlocks(ofManPage: "oml-compile.1", containing: "cat build/recent.d").first)
        let lines = example.split(separator: "\n").map(String.init)
        let folder = scratch.appendingPathComponent("depfile-example")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Self.conformance.appendingPathComponent("lint/valid-minimal.oml"), to: folder.appendingPathComponent("recent.oml"))
        try FileManager.default.copyItem(atPath: Self.connections, toPath: folder.appendingPathComponent("osiris_connections.yaml").path)
        // Run the commands up to the first --check, each as its line says; compare what cat prints.
        var index = 0
        while index < lines.count, !lines[index].contains("--check") {
            let command = lines[index]
            index += 1
            guard command.hasPrefix("$ ") else { continue }
            let words = command.dropFirst(2).split(separator: " ").map(String.init)
            let program = words[0] == "oml-compile" ? ToolHarness.binDirectory.appendingPathComponent("oml-compile").path : try Self.onPath(words[0])
            let run = try ToolHarness.run(program, Array(words.dropFirst()), in: folder)
            #expect(run.status == 0, "\(command): \(run.stderr)")
            if words[0] == "cat" { #expect(run.stdout == lines[index] + "\n") }
        }
        #expect(index < lines.count)
    }

    @Test func examplesMakefileRebuildsOnlyWhatChanged() throws {
        let examples = scratch.appendingPathComponent("examples")
        try FileManager.default.copyItem(at: ToolHarness.repositoryRoot.appendingPathComponent("examples"), to: examples)
        try? FileManager.default.removeItem(at: examples.appendingPathComponent("build"))
        let compiler = ToolHarness.binDirectory.appendingPathComponent("oml-compile").path
        func make() throws -> [String] {
            let run = try ToolHarness.run(try Self.onPath("make"), ["--no-print-directory", "OML_COMPILE=\(compiler)"], in: examples)
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout.split(separator: "\n").filter { $0.hasPrefix(compiler) }.map(String.init)
        }
        let pipelines = try FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("pipelines").path)
        #expect(try make().count == pipelines.count)
        #expect(try make().isEmpty)
        let touched = examples.appendingPathComponent("pipelines/customers-to-csv.oml")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: touched.path)
        let rebuilt = try make()
        #expect(rebuilt.count == 1)
        #expect(rebuilt.first?.contains("pipelines/customers-to-csv.oml") == true)
    }
}
