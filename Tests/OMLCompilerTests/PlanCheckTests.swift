import OML
@testable import OMLCompiler
import OsirisCore
import OsirisYAML
import Testing

/// Documents crafted to pass lint through suppression comments, or handed to the planner without
/// lint at all: each is refused with a diagnostic, never a trap.
@Suite struct PlanCheckTests {
    static let header = "oml_version: \"0.1.0\"\nname: crafted\nsteps:\n"
    static let extract = "  - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}\n"
    static let write = "  - {id: w, component: filesystem.csv_writer, mode: write, needs: [e], config: {path: o.csv}}\n"

    /// (what, document body after the header, the code the planner reports, its line).
    static let crafted: [(String, String, String, Int)] = [
        ("unknown component", "  # oml-lint: disable=OML200\n  - {id: e, component: nope.extractor, mode: read, config: {table: orders}}\n" + write, "OML200", 5),
        ("cycle via needs", extract
            + "  # oml-lint: disable=OML105\n  - {id: p, component: sqlite.processor, mode: transform, needs: [e, q], config: {query: select 1}}\n"
            + "  # oml-lint: disable=OML105\n  - {id: q, component: sqlite.processor, mode: transform, needs: [p], config: {query: select 1}}\n",
         "OML105", 6),
        ("duplicate id", extract + "  # oml-lint: disable=OML102\n  - {id: e, component: postgres.extractor, mode: read, config: {table: orders}}\n" + write,
         "OML102", 6),
        ("bad mode", "  # oml-lint: disable=OML106,OML107\n  - {id: e, component: postgres.extractor, mode: wrote, config: {table: orders}}\n" + write,
         "OML106", 5),
        ("missing required config", "  # oml-lint: disable=OML202\n  - {id: e, component: postgres.extractor, mode: read, config: {limit: 5}}\n" + write,
         "OML202", 5),
        ("wrong-typed config", "  - {id: e, component: postgres.extractor, mode: read, config: {table: orders,\n  # oml-lint: disable=OML203\n      limit: lots}}\n" + write,
         "OML203", 6),
        ("dangling needs", extract + "  # oml-lint: disable=OML104\n  - {id: w, component: filesystem.csv_writer, mode: write, needs: [x], config: {path: o.csv}}\n",
         "OML104", 6),
        ("writer with two inputs", extract + "  - {id: f, component: postgres.extractor, mode: read, config: {table: orders}}\n"
            + "  # oml-lint: disable=OML111\n  - {id: w, component: filesystem.csv_writer, mode: write, needs: [e, f], config: {path: o.csv}}\n",
         "OML111", 7),
        ("literal secret", "  # oml-lint: disable=OML305\n  - {id: e, component: postgres.extractor, mode: read, config: {table: orders, password: hunter2}}\n" + write,
         "OML305", 5),
    ]

    @Test(arguments: crafted)
    func lintSuppressionsDoNotLetItCompile(_ what: String, _ body: String, _ code: String, _ line: Int) throws {
        let result = try Compiler().compile(Array((Self.header + body).utf8), file: "p.oml", options: CompileOptions())
        #expect(result.manifest == nil, "\(what)")
        let errors = result.diagnostics.filter { $0.severity == .error }.map { "\($0.code)@\($0.range.start.line)" }
        #expect(errors.contains("\(code)@\(line)"), "\(what): \(errors)")
        #expect(errors.contains { $0.hasPrefix("OML004@") }, "\(what): the comment is reported")
    }

    @Test(arguments: crafted)
    func thePlannerRefusesWhatLintWouldHaveFound(_ what: String, _ body: String, _ code: String, _ line: Int) throws {
        let yaml = try YAMLParser.parse(Array((Self.header + body).utf8))
        let document = OMLDocument(root: try #require(yaml.root))
        do {
            _ = try Compiler().plan(document, file: "p.oml", params: [:], profile: nil, connections: nil)
            Issue.record("\(what) was planned")
        } catch {
            let found = error.diagnostics.map { "\($0.code)@\($0.range.start.line)" }
            #expect(found.contains("\(code)@\(line)"), "\(what): \(found)")
            #expect(error.diagnostics.allSatisfy { $0.severity == .error && $0.file == "p.oml" })
        }
    }

    @Test func aParamOutsideTheSchemaIsRefusedAtItsValue() throws {
        let text = """
            oml_version: "0.1.0"
            name: batches
            params:
              batch: {type: int, default: 500}
            steps:
              - {id: e, component: postgres.extractor, mode: read, config: {table: orders, batch_size: "${params.batch}"}}
              - {id: w, component: filesystem.csv_writer, mode: write, needs: [e], config: {path: o.csv}}
            """
        let options = CompileOptions(params: ["batch=5"])
        let result = try Compiler().compile(Array(text.utf8), file: "p.oml", options: options)
        #expect(result.manifest == nil)
        #expect(result.diagnostics.map { "\($0.code)@\($0.range.start)" } == ["OML203@6:92"])
        #expect(try Compiler().compile(Array(text.utf8), file: "p.oml", options: CompileOptions()).manifest != nil)
    }

    @Test func anUnrunnableComponentCompilesWithAWarning() throws {
        let text = Self.header + Self.extract
            + "  - {id: p, component: duckdb.processor, mode: transform, needs: [e], config: {query: select 1}}\n"
            + "  - {id: w, component: filesystem.csv_writer, mode: write, needs: [p], config: {path: o.csv}}\n"
        let result = try Compiler().compile(Array(text.utf8), file: "p.oml", options: CompileOptions())
        #expect(result.manifest?.steps.map(\.component) == ["postgres.extractor", "duckdb.processor", "filesystem.csv_writer"])
        #expect(result.diagnostics.map { "\($0.code)@\($0.range.start) \($0.severity)" } == ["OML206@5:24 warning"])
        #expect(result.diagnostics.first?.message.contains("step 'p'") == true)
    }
}
