import OML
import OMLLint
import OsirisCore
import Testing

@testable import OsirisChat

/// What the prompt carries, and what the builtin planner writes.
@Suite struct PromptTests {
    @Test func theSnapshotIsPrunedToTheNamedTablesAndTheirForeignKeyNeighbours() throws {
        let builder = PromptBuilder(connections: nil, snapshot: try ChatFixtures.snapshot())
        let pruned = builder.prunedSnapshot(for: "copy the customers")
        #expect(pruned.contains("Tables: customers, orders, products"))
        #expect(pruned.contains("- customers: id INTEGER"))
        #expect(pruned.contains("- orders: id INTEGER"))  // references customers
        #expect(!pruned.contains("- products:"))
    }

    @Test func withNoTableNamedEveryTableIsDescribedWithinTheBudget() throws {
        var builder = PromptBuilder(connections: nil, snapshot: try ChatFixtures.snapshot())
        #expect(builder.prunedSnapshot(for: "copy everything").contains("- products: id INTEGER"))
        builder.snapshotBudget = 200
        let small = builder.prunedSnapshot(for: "copy everything")
        #expect(small.contains("left out for size"))
        #expect(small.contains("Tables: customers, orders, products"))
    }

    @Test func connectionAliasesAreListedWithoutTheirValues() throws {
        let builder = PromptBuilder(connections: try ChatFixtures.connections(), snapshot: try ChatFixtures.snapshot())
        let system = builder.systemMessage()
        #expect(system.contains("- @pg.warehouse"))
        #expect(system.contains("- @sqlite.demo (default for sqlite)"))
        #expect(!system.contains(ChatFixtures.plantedSecret))
        #expect(!system.contains("127.0.0.1"))
        // Component summaries come from the registry.
        #expect(system.contains("- sqlite.extractor (mode: read)"))
        #expect(system.contains("exactly one of: query or table"))
    }

    /// The components offered are those a known connection can serve (here SQLite and PostgreSQL,
    /// not MySQL), the same as the response schema's; a structured draft is asked for as JSON.
    @Test func onlyComponentsAKnownConnectionServesAreOffered() throws {
        let builder = PromptBuilder(connections: try ChatFixtures.connections(), snapshot: try ChatFixtures.snapshot())
        let plain = builder.systemMessage()
        #expect(plain.contains("- postgres.writer (mode: write)"))
        #expect(plain.contains("- filesystem.csv_writer (mode: write)"))
        #expect(!plain.contains("mysql."))
        #expect(plain.contains("Answer with exactly one OML document in a ```yaml fence"))
        let structured = builder.systemMessage(structured: true)
        #expect(structured.contains("Answer with exactly one JSON object that follows the response schema"))
        #expect(!structured.contains("```yaml"))
        let schema = PipelineSchema.make(snapshot: try ChatFixtures.snapshot(), connections: try ChatFixtures.connections())
        let offered = try #require(schema["properties"]?["steps"]?["items"]?["anyOf"]?.arrayValue)
            .compactMap { $0["properties"]?["component"]?["enum"]?.arrayValue?.first?.stringValue }
        let usable = UsableComponents(snapshot: try ChatFixtures.snapshot(), connections: try ChatFixtures.connections()).specs.map(\.name)
        #expect(offered == usable)
        for name in usable { #expect(plain.contains("- \(name) (mode:")) }
    }
}

@Suite struct BuiltinPlannerTests {
    func lint(_ text: String) throws -> [String] {
        Linter(snapshot: try ChatFixtures.snapshot(), reportsUnrunnableComponents: true).lint(Array(text.utf8), file: "p.oml")
            .diagnostics.map(\.code)
    }

    @Test(arguments: [
        "copy all tables to csv", "export every table as json lines", "copy orders and customers to csv",
        "upsert all tables into @sqlite.backup", "replace products in @pg.warehouse",
    ])
    func understoodRequestsLintClean(request: String) throws {
        let text = try BuiltinPlanner(snapshot: try ChatFixtures.snapshot()).plan(request)
        #expect(try lint(text) == [])
    }

    @Test func namedTablesOnly() throws {
        let text = try BuiltinPlanner(snapshot: try ChatFixtures.snapshot()).plan("export orders to jsonl")
        #expect(text.contains("id: extract-orders"))
        #expect(text.contains("path: \"out/orders.jsonl\""))
        #expect(!text.contains("customers"))
    }

    @Test func upsertUsesTheSnapshotsPrimaryKey() throws {
        let text = try BuiltinPlanner(snapshot: try ChatFixtures.snapshot()).plan("upsert orders into @sqlite.backup")
        #expect(text.contains("      write_mode: upsert\n      primary_key: [\"id\"]\n"))
        #expect(text.contains("component: sqlite.writer"))
    }

    @Test func upsertWithoutPrimaryKeyNeedsAModel() throws {
        var snapshot = try ChatFixtures.snapshot()
        snapshot.tables[1].primaryKey = []
        let error = #expect(throws: ChatError.self) { try BuiltinPlanner(snapshot: snapshot).plan("upsert orders into @sqlite.backup") }
        #expect(error?.description.contains("'orders' has no primary key") == true)
    }

    /// A snapshot discovered from a URL, as `osiris-discover sqlite:PATH` or `postgres://...` writes it.
    func urlSnapshot(_ url: String, family: String) throws -> Snapshot {
        var snapshot = try ChatFixtures.snapshot()
        snapshot.connectionName = url
        snapshot.connection = ConnectionReference(family: family, alias: "")
        snapshot.family = family
        return snapshot
    }

    @Test func aSQLiteFileDiscoveredByPathIsReadByPath() throws {
        let text = try BuiltinPlanner(snapshot: try urlSnapshot("sqlite:data/shop.db", family: "sqlite")).plan("copy orders to csv")
        #expect(text.contains("      path: \"data/shop.db\"\n      table: \"orders\"\n"))
        #expect(!text.contains("connection:"))
        #expect(try lint(text) == [])
    }

    @Test func aServerDiscoveredByURLNeedsAnAlias() throws {
        let snapshot = try urlSnapshot("postgres://etl@db.example/shop", family: "postgres")
        let error = #expect(throws: ChatError.self) { try BuiltinPlanner(snapshot: snapshot).plan("copy orders to csv") }
        #expect(error?.description.contains("names its connection by URL ('postgres://etl@db.example/shop')") == true)
    }

    @Test(arguments: ["sum revenue by country", "copy orders where total > 100 to csv", "upsert orders to csv", "copy orders"])
    func otherRequestsNeedAModel(request: String) throws {
        let error = #expect(throws: ChatError.self) { try BuiltinPlanner(snapshot: try ChatFixtures.snapshot()).plan(request) }
        #expect(error?.exitStatus == .failure)
        #expect(error?.description.contains("a model is needed") == true)
    }
}

/// What the session masker hides.
@Suite struct ChatSecretMaskerTests {
    @Test func secretFieldsLiteralOrFromTheEnvironmentAndTheKeyAreMasked() throws {
        let text = """
            version: 1
            connections:
              pg:
                shop: {host: db.internal, user: etl, password: "${SHOP_PASSWORD}"}
                warehouse: {dsn: "postgres://etl:pw-in-dsn@db/wh"}
                literal: {host: h, password: literal-pass}

            """
        let connections = try ConnectionsFile.parse(Array(text.utf8), path: "c.yaml")
        let masker = chatSecretMasker(
            connections: connections, environment: ["SHOP_PASSWORD": "from-env-pass", "HOME": "/root"], apiKey: "sk-key")
        #expect(masker.mask("from-env-pass literal-pass sk-key postgres://etl:pw-in-dsn@db/wh db.internal /root")
            == "*** *** *** *** db.internal /root")
    }
}
