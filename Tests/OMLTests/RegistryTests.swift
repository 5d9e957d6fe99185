import OML
import OsirisCore
import OsirisYAML
import Testing

@Suite struct RegistryTests {
    let registry = ComponentRegistry.builtin

    @Test func everyComponentOfTheDesignIsRegistered() {
        #expect(registry.names == [
            "duckdb.processor", "filesystem.csv_extractor", "filesystem.csv_writer", "filesystem.jsonl_writer",
            "mysql.extractor", "mysql.writer", "postgres.extractor", "postgres.processor", "postgres.writer",
            "sqlite.extractor", "sqlite.processor", "sqlite.writer", "supabase.extractor", "supabase.writer",
        ])
    }

    @Test func rolesModesAndFamiliesAgree() {
        for spec in registry.specs {
            #expect(spec.stepModes == [spec.role.stepMode], "\(spec.name)")
            let prefix = String(spec.name.split(separator: ".")[0])
            if spec.role != .processor || prefix == "postgres" {
                #expect(spec.family == prefix || (prefix == "filesystem" && spec.family == "filesystem"), "\(spec.name)")
            }
        }
    }

    @Test func everyExampleAndDefaultValidates() throws {
        for spec in registry.specs {
            for (index, example) in spec.examples.enumerated() {
                guard let config = example["config"] else { continue }
                let yaml = try YAMLParser.parse(JSONWriter.canonicalString(config))
                let violations = SchemaValidator(skippedKeys: ["connection"]).validate(try #require(yaml.root), against: spec.configSchema)
                #expect(violations.isEmpty, "\(spec.name) example \(index): \(violations.map(\.path))")
            }
            for (name, property) in spec.configSchema.properties {
                guard let value = property.defaultValue else { continue }
                let yaml = try YAMLParser.parse(JSONWriter.canonicalString(value))
                let violations = SchemaValidator().validate(try #require(yaml.root), against: property)
                #expect(violations.isEmpty, "\(spec.name).\(name) default")
            }
        }
    }

    @Test func secretsAndConnectionPolicies() throws {
        let extractor = try #require(registry.spec(named: "postgres.extractor"))
        #expect(extractor.secretKeys.contains("password"))
        #expect(extractor.overridePolicy(of: "database") == .forbidden)
        #expect(extractor.overridePolicy(of: "host") == .warning)
        #expect(extractor.overridePolicy(of: "schema") == .allowed)
        #expect(extractor.configSchema.exclusiveRequired == [["query"], ["table"]])
        let writer = try #require(registry.spec(named: "mysql.writer"))
        #expect(writer.aliases == ["mode": "write_mode", "upsert_keys": "primary_key"])
    }

    @Test func schemaValidatorReportsEachKind() throws {
        let spec = try #require(registry.spec(named: "filesystem.csv_writer"))
        let yaml = try YAMLParser.parse("delimiter: 7\nnewline: cr\nbogus: 1\nchunk_size: 0\n")
        let kinds = SchemaValidator().validate(try #require(yaml.root), against: spec.configSchema).map(\.kind)
        #expect(kinds.contains(.missing(["path"])))
        #expect(kinds.contains(.unknownKey("bogus")))
        #expect(kinds.contains(.wrongType(expected: "string", found: "integer")))
        #expect(kinds.contains { if case .notAllowed = $0 { true } else { false } })
        #expect(kinds.contains { if case .outOfBounds = $0 { true } else { false } })
    }
}

@Suite struct ConnectionsFileTests {
    let text = """
        version: 1
        connections:
          postgresql:
            shop: {host: h, password: "${PW}"}
            default: {host: d}
          mysql:
            movies: {default: true}
        """

    @Test func lookupsAndDefaults() throws {
        let file = try ConnectionsFile.parse(Array(text.utf8), path: "c.yaml")
        guard case .found(let entry) = file.lookup(ConnectionReference(family: "pg", alias: "shop")) else {
            Issue.record("pg.shop not found through the postgresql spelling")
            return
        }
        #expect(entry.field("password") == .string("${PW}"))
        guard case .found(let fallback) = file.defaultConnection(forFamily: "postgres") else {
            Issue.record("alias named default not used")
            return
        }
        #expect(fallback.alias == "default")
        guard case .found(let marked) = file.defaultConnection(forFamily: "mariadb") else {
            Issue.record("default: true not used")
            return
        }
        #expect(marked.alias == "movies")
        guard case .unknownAlias(_, _, let known) = file.lookup(ConnectionReference(family: "mysql", alias: "x")) else {
            Issue.record("unknown alias not reported")
            return
        }
        #expect(known == ["movies"])
        guard case .noDefault = file.defaultConnection(forFamily: "sqlite") else {
            Issue.record("missing family has no default")
            return
        }
    }

    @Test(arguments: [
        ("version: 2\nconnections: {}\n", "unsupported version 2; expected 1", 1),
        ("version: 1\n", "missing key 'connections'", 1),
        ("version: 1\nconnections:\n  pg:\n    shop: 5\n", "connection '@pg.shop' must be a mapping of fields", 4),
        ("version: 1\nconnections:\n  pg:\n    shop: {default: maybe}\n", "'default' must be true or false", 4),
    ])
    func badFilesSayWhatAndWhere(text: String, message: String, line: Int) {
        do {
            _ = try ConnectionsFile.parse(Array(text.utf8), path: "c.yaml")
            Issue.record("accepted a bad file")
        } catch {
            #expect(error.message == message)
            #expect(error.range?.start.line == line)
            #expect(error.exitStatus == .configuration)
        }
    }

    @Test func lookupOrder() {
        let exists: (String) -> Bool = { $0 == "osiris_connections.yaml" || $0 == "/cfg/osiris/connections.yaml" }
        #expect(ConnectionsFile.locate(explicit: "x.yaml", environment: ["OSIRIS_CONNECTIONS": "e.yaml"], fileExists: exists) == "x.yaml")
        #expect(ConnectionsFile.locate(explicit: nil, environment: ["OSIRIS_CONNECTIONS": "e.yaml"], fileExists: exists) == "e.yaml")
        #expect(ConnectionsFile.locate(explicit: nil, environment: [:], fileExists: exists) == "osiris_connections.yaml")
        #expect(ConnectionsFile.locate(explicit: nil, environment: ["XDG_CONFIG_HOME": "/cfg"], fileExists: { $0.hasPrefix("/cfg") })
            == "/cfg/osiris/connections.yaml")
        #expect(ConnectionsFile.locate(explicit: nil, environment: ["HOME": "/home/u"], fileExists: { _ in false }) == nil)
    }

    @Test(arguments: [("@pg.shop", true), ("@pgshop", false), ("pg.shop", false), ("@pg.", false), ("@a-b.c_d", true), ("@pg.sh op", false)])
    func referenceSyntax(text: String, valid: Bool) {
        #expect((ConnectionReference(parsing: text) != nil) == valid)
    }
}

@Suite struct SnapshotTests {
    @Test func decodesTheDesignExample() throws {
        let snapshot = try Snapshot.decode(Array("""
            {"snapshot_version": 1, "connection": "@pg.shop", "family": "postgres", "database": "shop", "depth": "columns",
             "tables": [{"schema": "public", "name": "orders", "kind": "table", "row_estimate": 120000,
               "columns": [{"name": "id", "type": "integer", "logical_type": "int64", "nullable": false}],
               "primary_key": ["id"],
               "foreign_keys": [{"columns": ["customer_id"], "references": {"schema": "public", "table": "customers", "columns": ["id"]}}]}]}
            """.utf8), path: "s.json")
        #expect(snapshot.connection == ConnectionReference(family: "pg", alias: "shop"))
        #expect(snapshot.tables.first?.foreignKeys.first?.referencedTable == "customers")
        #expect(snapshot.tables(named: "ORDERS", schema: nil, caseSensitive: false).count == 1)
        #expect(snapshot.tables(named: "ORDERS", schema: nil, caseSensitive: true).isEmpty)
    }

    @Test(arguments: [
        ("[]", "a snapshot is a JSON object"),
        ("{\"snapshot_version\": 2, \"connection\": \"@pg.shop\", \"tables\": []}", "unsupported snapshot_version 2; this tool reads version 1"),
        ("{\"snapshot_version\": 1, \"connection\": \"pg\", \"tables\": []}", "'connection' must be '@family.alias', not 'pg'"),
    ])
    func badSnapshotsExit65(text: String, message: String) {
        do {
            _ = try Snapshot.decode(Array(text.utf8), path: "s.json")
            Issue.record("accepted a bad snapshot")
        } catch {
            #expect(error.message == message)
            #expect(error.exitStatus == .dataError)
        }
    }
}

@Suite struct DocumentModelTests {
    @Test func paramReferencesAndWholeReferences() {
        #expect(ParamReference.all(in: "a ${params.x} b ${params.y_2} ${params.} ${params.9}").map(\.name) == ["x", "y_2"])
        #expect(ParamReference.whole("${params.limit}") == "limit")
        #expect(ParamReference.whole(" ${params.limit}") == nil)
        #expect(ParamReference.all(in: "é${params.x}").first?.offset == 1)
    }

    @Test func stepGraphLevelsAndImplicitInputs() throws {
        let yaml = try YAMLParser.parse("""
            steps:
              - {id: a, component: postgres.extractor}
              - {id: b, component: postgres.extractor}
              - {id: j, component: sqlite.processor, needs: [a, b]}
              - {id: w, component: filesystem.csv_writer}
            """)
        let document = OMLDocument(root: try #require(yaml.root))
        let registry = ComponentRegistry.builtin
        let graph = StepGraph(document: document) { index in
            document.steps[index].component.flatMap(registry.spec(named:))?.role
        }
        #expect(graph.inputs == [[], [], [0, 1], [2]])
        #expect(graph.sources == [.none, .none, .explicit, .implicit])
        #expect(graph.levels == [[0, 1], [2], [3]])
        #expect(!graph.hasCycle)
    }

    @Test func paramTypesParseCommandLineText() {
        #expect(ParamType.int.parse("12") == .int(12))
        #expect(ParamType.int.parse("1.5") == nil)
        #expect(ParamType.number.parse("1.5") == .double(1.5))
        #expect(ParamType.bool.parse("yes") == .bool(true))
        #expect(ParamType.string.parse("x") == .string("x"))
    }
}

/// The built-in registry decodes a spec only when it is asked for.
@Suite struct LazyRegistryTests {
    /// Each embedded spec's first line names it, which is how the registry lists names without decoding.
    @Test func namesMatchTheDecodedSpecs() {
        let registry = ComponentRegistry.builtin
        #expect(registry.names.count == 14)
        #expect(registry.specs.map(\.name) == registry.names)
    }

    @Test func decodesOnFirstUseAndKeepsTheSpec() throws {
        let text = "name: test.writer\nversion: 1.0.0\nmodes: [write]\nconfigSchema: {type: object}\nx-role: writer\n"
        let other = "name: test.extractor\nmodes: [extract]\nconfigSchema: {type: object}\nx-role: extractor\n"
        let registry = ComponentRegistry(texts: [(name: "test.writer", yaml: text), (name: "test.extractor", yaml: other)])
        #expect(registry.names == ["test.extractor", "test.writer"])
        #expect(registry.decodedNames == [])
        let first = try #require(registry.spec(named: "test.writer"))
        #expect(registry.decodedNames == ["test.writer"])
        #expect(first.role == .writer)
        #expect(registry.spec(named: "test.writer") === first)
        #expect(registry.spec(named: "other.writer") == nil)
    }
}

/// Patterns are not compiled when a spec is decoded (that runs at start-up), so a bad one would only
/// show as a value that never matches: every pattern of every embedded spec must compile.
@Suite struct EmbeddedPatternTests {
    static func patterns(in schema: JSONSchema) -> [String] {
        var found = schema.pattern.map { [$0] } ?? []
        for (_, property) in schema.properties { found += patterns(in: property) }
        for alternative in schema.alternatives { found += patterns(in: alternative) }
        for item in schema.items { found += patterns(in: item) }
        return found
    }

    @Test func everyPatternCompiles() {
        var count = 0
        for spec in ComponentRegistry.builtin.specs {
            for pattern in Self.patterns(in: spec.configSchema) {
                count += 1
                #expect((try? Regex(pattern)) != nil, "\(spec.name): '\(pattern)'")
            }
        }
        #expect(count > 0)
    }
}
