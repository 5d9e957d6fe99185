import Foundation
import OML
import OsirisCore
@testable import OsirisDiscovery
@testable import OsirisDrivers
import Synchronization
import Testing

/// Discovery against the real MariaDB server of `scripts/with-servers`: a fixture database with
/// composite keys, a foreign key into another database, a view, mixed-case names and every type.
@Suite(.serialized, .enabled(if: TestServers.mariadb, "needs OSIRIS_TEST_MYSQL_URL (run under scripts/with-servers)"))
struct MySQLDiscoveryTests {
    static let database = "osiris_discovery_fixture"
    static let other = "osiris_discovery_other"

    static let fixture = [
        "DROP DATABASE IF EXISTS \(database)", "DROP DATABASE IF EXISTS \(other)",
        "CREATE DATABASE \(database)", "CREATE DATABASE \(other)",
        "CREATE TABLE \(other).Products (SKU varchar(20), Region char(2), price decimal(12,2) NOT NULL DEFAULT 0, PRIMARY KEY (SKU, Region))",
        """
        CREATE TABLE \(database).customers (id bigint AUTO_INCREMENT PRIMARY KEY, email varchar(200) NOT NULL COMMENT 'login e-mail',
          `DisplayName` varchar(80), created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP) COMMENT 'people who buy'
        """,
        """
        CREATE TABLE \(database).orders (id int AUTO_INCREMENT PRIMARY KEY, customer_id bigint NOT NULL, placed date,
          FOREIGN KEY (customer_id) REFERENCES \(database).customers (id))
        """,
        """
        CREATE TABLE \(database).order_lines (order_id int, line smallint, sku varchar(20), region char(2), qty int unsigned,
          PRIMARY KEY (order_id, line), FOREIGN KEY (order_id) REFERENCES \(database).orders (id),
          FOREIGN KEY (sku, region) REFERENCES \(other).Products (SKU, Region))
        """,
        """
        CREATE TABLE \(database).all_types (b boolean, ti tinyint, si smallint, mi mediumint, i int, bi bigint, ub bigint unsigned,
          f float, d double, n decimal(10,3), c char(3), vc varchar(10), t text, lt longtext, dt date, tm time, ts datetime,
          tz timestamp NULL, y year, j json, u uuid, bn binary(4), vb varbinary(8), bl blob, bt bit(3), e enum('a','b'), s set('x','y'))
        """,
        "CREATE VIEW \(database).big_orders AS SELECT id, customer_id FROM \(database).orders WHERE id > 10",
    ]

    static func prepare(_ folder: TemporaryFolder) throws -> ConnectionResolver {
        let admin = try MySQLConnection(
            ResolvedConnection(reference: "@mysql.test", family: "mysql", fields: TestServers.mariadbFields()), masker: SecretMasker())
        for statement in fixture { try admin.execute(statement) }
        return try resolver(folder, [("mysql", "fixture", TestServers.mariadbFields(database: database))])
    }

    @Test func columnsSnapshotEqualsTheGolden() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let queries = Mutex<[String]>([])
        var options = DiscoveryOptions(connection: "@mysql.fixture")
        options.onQuery = { sql in queries.withLock { $0.append(sql) } }
        let first = try Discovery.run(options, resolver: resolver, masker: SecretMasker())
        // Row estimates of InnoDB tables are guesses that vary: the golden holds none.
        var snapshot = try Snapshot.decode(first.bytes, path: "-")
        for index in snapshot.tables.indices { snapshot.tables[index].rowEstimate = nil }
        try expectGolden(withoutServerVersion(JSONWriter.line(snapshot.json)), "mysql-columns.json")
        // START TRANSACTION, identity, tables, JSON checks, columns, keys: the same for any number of tables.
        #expect(queries.withLock { $0.count } == 6)
        let second = try Discovery.run(DiscoveryOptions(connection: "@mysql.fixture"), resolver: resolver, masker: SecretMasker())
        #expect(second.bytes == first.bytes)
    }

    @Test func theCacheHoldsUntilAlterTable() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let options = DiscoveryOptions(connection: "@mysql.fixture", cacheDirectory: folder.path + "/cache")
        #expect(!(try Discovery.run(options, resolver: resolver, masker: SecretMasker()).fromCache))
        #expect(try Discovery.run(options, resolver: resolver, masker: SecretMasker()).fromCache)
        let admin = try MySQLConnection(
            ResolvedConnection(reference: "@mysql.test", family: "mysql", fields: TestServers.mariadbFields()), masker: SecretMasker())
        try admin.execute("ALTER TABLE \(Self.database).orders ADD COLUMN note text")
        let changed = try Discovery.run(options, resolver: resolver, masker: SecretMasker())
        #expect(!changed.fromCache)
        #expect(String(decoding: changed.bytes, as: UTF8.self).contains("\"name\":\"note\""))
    }

    @Test func profileOfKnownData() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let admin = try MySQLConnection(
            ResolvedConnection(reference: "@mysql.test", family: "mysql", fields: TestServers.mariadbFields()), masker: SecretMasker())
        try admin.execute("""
            INSERT INTO \(Self.database).customers (id, email, DisplayName, created_at) VALUES
              (2, 'b@x', NULL, '2024-01-02 00:00:00'), (1, 'a@x', 'Ann', '2024-01-01 00:00:00'), (3, 'c@x', 'Ann', '2024-01-03 00:00:00')
            """)
        let outcome = try Discovery.run(
            DiscoveryOptions(connection: "@mysql.fixture", depth: .profile, tables: ["customers"], sample: 1), resolver: resolver,
            masker: SecretMasker())
        let snapshot = try Snapshot.decode(outcome.bytes, path: "-")
        #expect(ProfileTests.statistics(snapshot, "customers") == [
            "id 0.0 3 1 3",
            "email 0.0 3 a@x c@x",
            "DisplayName 0.3333 1 Ann Ann",
            "created_at 0.0 3 2024-01-01 00:00:00 2024-01-03 00:00:00",
        ])
        #expect(snapshot.tables[0].sampleRows == [
            ["id": "1", "email": "a@x", "DisplayName": "Ann", "created_at": "2024-01-01 00:00:00"],
        ])
    }

    @Test func badPasswordIs77AndNeverShown() throws {
        let folder = TemporaryFolder()
        var fields = TestServers.mariadbFields()
        fields["password"] = "wrong-Secret-4711"
        let masker = SecretMasker()
        let resolver = try resolver(folder, [("mysql", "bad", fields)], masker: masker)
        #expect {
            try Discovery.run(DiscoveryOptions(connection: "@mysql.bad"), resolver: resolver, masker: masker)
        } throws: { error in
            let error = error as! DiscoveryError
            return error.exitStatus == .permissionDenied && !error.message.contains("wrong-Secret-4711")
        }
    }
}
