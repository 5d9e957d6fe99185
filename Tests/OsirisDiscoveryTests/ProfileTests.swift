import Foundation
import OML
import OsirisCore
@testable import OsirisDiscovery
@testable import OsirisDrivers
import Testing

/// Depth `profile` on known data: statistics, samples, `--sample 0`, and masked secrets.
@Suite struct ProfileTests {
    let folder = TemporaryFolder()

    static func statistics(_ snapshot: Snapshot, _ table: String) -> [String] {
        (snapshot.tables.first { $0.name == table }?.columns ?? []).map { column in
            let stats = column.statistics
            return "\(column.name) \(stats?.nullFraction ?? -1) \(stats?.distinctEstimate ?? -1) \(stats?.min ?? "-") \(stats?.max ?? "-")"
        }
    }

    @Test func sqliteStatisticsSamplesAndMasking() throws {
        let path = folder.path + "/shop.db"
        let database = try SQLiteDatabase(path: path, create: true)
        try database.execute("""
            CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT, score REAL, api_token TEXT, born DATE);
            INSERT INTO accounts VALUES (3, NULL, 3.5, NULL, '2010-12-31'), (1, 'ann', 1.5, 'tok-1', '2000-01-01'),
                (2, 'bob', NULL, 'tok-2', '1990-05-05'), (4, 'ann', NULL, 'tok-4', NULL);
            CREATE TABLE other (x INTEGER);
            """)
        database.close()
        let resolver = try resolver(folder, [("sqlite", "shop", ["path": .string(path)])])
        let outcome = try Discovery.run(
            DiscoveryOptions(connection: "@sqlite.shop", depth: .profile, tables: ["acc*"], sample: 2), resolver: resolver,
            masker: SecretMasker())
        let snapshot = try Snapshot.decode(outcome.bytes, path: "-")
        #expect(snapshot.depth == "profile")
        #expect(snapshot.tables.map(\.name) == ["accounts"])
        #expect(Self.statistics(snapshot, "accounts") == [
            "id 0.0 4 1 4",
            "name 0.25 2 ann bob",
            "score 0.5 2 1.5 3.5",
            "api_token 0.25 3 *** ***",
            "born 0.25 3 1990-05-05 2010-12-31",
        ])
        #expect(snapshot.tables[0].sampleRows == [
            ["id": "1", "name": "ann", "score": "1.5", "api_token": "***", "born": "2000-01-01"],
            ["id": "2", "name": "bob", "score": .null, "api_token": "***", "born": "1990-05-05"],
        ])
        #expect(!String(decoding: outcome.bytes, as: UTF8.self).contains("tok-"))

        let none = try Discovery.run(
            DiscoveryOptions(connection: "@sqlite.shop", depth: .profile, tables: ["accounts"], sample: 0), resolver: resolver,
            masker: SecretMasker())
        let bare = try Snapshot.decode(none.bytes, path: "-")
        #expect(bare.tables[0].sampleRows == nil)
        #expect(Self.statistics(bare, "accounts") == Self.statistics(snapshot, "accounts"))
        // Statistics and samples never change the fingerprint.
        let columns = try Discovery.run(DiscoveryOptions(connection: "@sqlite.shop", tables: ["accounts"]), resolver: resolver, masker: SecretMasker())
        #expect(try Snapshot.decode(columns.bytes, path: "-").fingerprint == snapshot.fingerprint)
    }

    @Test(.enabled(if: TestServers.postgres, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
    func postgresStatisticsSamplesAndMasking() throws {
        let schema = TestServers.uniqueName("profile")
        let fields = TestServers.postgresFields()
        let admin = try PostgreSQLConnection(ResolvedConnection(reference: "@pg.test", family: "postgres", fields: fields), masker: SecretMasker())
        try admin.execute("""
            CREATE SCHEMA \(schema);
            CREATE TABLE \(schema).accounts (id int PRIMARY KEY, name text, score numeric(5,1), password text, born date,
                active boolean, doc jsonb, "Mixed Case" varchar(5));
            INSERT INTO \(schema).accounts VALUES
                (3, NULL, 3.0, NULL, '2010-12-31', true, '{"a": 1}', 'z'),
                (1, 'ann', 1.5, 'hunter2', '2000-01-01', true, '[1]', 'a'),
                (2, 'bob', NULL, 's3cret', '1990-05-05', false, NULL, 'a'),
                (4, 'ann', NULL, 'pw4', NULL, NULL, '[1]', NULL);
            CREATE TABLE \(schema).skipped (x int);
            """)
        defer { try? admin.execute("DROP SCHEMA \(schema) CASCADE") }
        let resolver = try resolver(folder, [("pg", "profile", fields)])
        let outcome = try Discovery.run(
            DiscoveryOptions(connection: "@pg.profile", depth: .profile, tables: ["\(schema).acc*"], sample: 2), resolver: resolver,
            masker: SecretMasker())
        let snapshot = try Snapshot.decode(outcome.bytes, path: "-")
        #expect(snapshot.tables.map(\.name) == ["accounts"])
        #expect(Self.statistics(snapshot, "accounts") == [
            "id 0.0 4 1 4",
            "name 0.25 2 ann bob",
            "score 0.5 2 1.5 3.0",
            "password 0.25 3 *** ***",
            "born 0.25 3 1990-05-05 2010-12-31",
            "active 0.25 2 false true",
            "doc 0.25 2 - -",
            "Mixed Case 0.25 2 a z",
        ])
        #expect(snapshot.tables[0].sampleRows == [
            ["id": "1", "name": "ann", "score": "1.5", "password": "***", "born": "2000-01-01", "active": "true", "doc": "[1]",
             "Mixed Case": "a"],
            ["id": "2", "name": "bob", "score": .null, "password": "***", "born": "1990-05-05", "active": "false", "doc": .null,
             "Mixed Case": "a"],
        ])
        let text = String(decoding: outcome.bytes, as: UTF8.self)
        #expect(!text.contains("hunter2") && !text.contains("s3cret"))
    }
}
