import Foundation
import OML
import OsirisCore
@testable import OsirisDiscovery
@testable import OsirisDrivers
import Synchronization
import Testing

@Suite struct DiscoveryCacheTests {
    let folder = TemporaryFolder()
    var cache: String { folder.path + "/cache/osiris/discovery" }

    func database() throws -> String {
        let path = folder.path + "/shop.db"
        let database = try SQLiteDatabase(path: path, create: true)
        try database.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        database.close()
        return path
    }

    @Test func aSecondRunIsServedFromTheCacheUntilTheStructureChanges() throws {
        let path = try database()
        let counting = CountingDiscoverer(SQLiteDiscoverer())
        let registry = DriverRegistry(drivers: [:], discoverers: ["sqlite": counting])
        let resolver = try resolver(folder, [("sqlite", "shop", ["path": .string(path)])])
        var options = DiscoveryOptions(connection: "@sqlite.shop", cacheDirectory: cache)
        func run() throws -> DiscoveryOutcome { try Discovery.run(options, resolver: resolver, registry: registry, masker: SecretMasker()) }

        let first = try run()
        #expect(!first.fromCache && first.warnings == [])
        let second = try run()
        #expect(second.fromCache)
        #expect(second.bytes == first.bytes)
        #expect(counting.discoveries == 1 && counting.hashes == 2)

        let database = try SQLiteDatabase(path: path)
        try database.execute("ALTER TABLE customers ADD COLUMN email TEXT")
        database.close()
        let third = try run()
        #expect(!third.fromCache && third.bytes != first.bytes)
        #expect(counting.discoveries == 2)
        #expect(try run().fromCache)

        options.refresh = true
        #expect(!(try run().fromCache))
        #expect(counting.discoveries == 3)
        options.refresh = false
        options.depth = .tables
        #expect(!(try run().fromCache))
        #expect(try run().fromCache)
        #expect(counting.discoveries == 4)
        // One file per key, named by a hash: no connection detail in the name.
        let files = try FileManager.default.contentsOfDirectory(atPath: cache).sorted()
        #expect(files.count == 2 && files.allSatisfy { $0.count == 64 + ".snapshot".count })
    }

    @Test func anUnwritableCacheIsAWarning() throws {
        let path = try database()
        try folder.write("cache", "a file where the cache folder should be")
        let resolver = try resolver(folder, [("sqlite", "shop", ["path": .string(path)])])
        let outcome = try Discovery.run(
            DiscoveryOptions(connection: "@sqlite.shop", cacheDirectory: cache), resolver: resolver, masker: SecretMasker())
        #expect(!outcome.fromCache)
        #expect(outcome.warnings.count == 1 && outcome.warnings[0].hasPrefix("cannot cache the snapshot: cannot write '"))
    }

    @Test func profilesAreNeverCached() throws {
        let path = try database()
        let counting = CountingDiscoverer(SQLiteDiscoverer())
        let registry = DriverRegistry(drivers: [:], discoverers: ["sqlite": counting])
        let resolver = try resolver(folder, [("sqlite", "shop", ["path": .string(path)])])
        let options = DiscoveryOptions(connection: "@sqlite.shop", depth: .profile, cacheDirectory: cache)
        for _ in 0..<2 { #expect(!(try Discovery.run(options, resolver: resolver, registry: registry, masker: SecretMasker()).fromCache)) }
        #expect(counting.discoveries == 2 && counting.hashes == 0)
    }

    @Test func theKeyHoldsTheIdentityButNoSecret() {
        let connection = ResolvedConnection(reference: "@pg.shop", family: "postgres", fields: [
            "host": "db", "port": 5432, "database": "shop", "user": "ann", "password": "one",
        ])
        var changed = connection
        changed.fields["password"] = "two"
        let options = DiscoveryOptions(connection: "@pg.shop")
        #expect(DiscoveryCache.key(connection: connection, options: options) == DiscoveryCache.key(connection: changed, options: options))
        changed.fields["user"] = "bob"
        #expect(DiscoveryCache.key(connection: connection, options: options) != DiscoveryCache.key(connection: changed, options: options))
        var other = options
        other.tables = ["orders"]
        #expect(DiscoveryCache.key(connection: connection, options: options) != DiscoveryCache.key(connection: connection, options: other))
    }
}

@Suite(.serialized, .enabled(if: TestServers.postgres, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
struct PostgreSQLDiscoveryCacheTests {
    @Test func aCachedRunSendsOnlyTheStructureHashAndAlterTableInvalidatesIt() throws {
        let folder = TemporaryFolder()
        let schema = TestServers.uniqueName("cache")
        // A database of its own: the structure hash covers the whole database, which other tests change.
        let server = try PostgreSQLConnection(
            ResolvedConnection(reference: "@pg.test", family: "postgres", fields: TestServers.postgresFields()), masker: SecretMasker())
        let database = TestServers.uniqueName("osiris_cache")
        try server.execute("CREATE DATABASE \(database)")
        defer { try? server.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        let fields = TestServers.postgresFields(database: database)
        let admin = try PostgreSQLConnection(ResolvedConnection(reference: "@pg.test", family: "postgres", fields: fields), masker: SecretMasker())
        try admin.execute("CREATE SCHEMA \(schema); CREATE TABLE \(schema).t (id int PRIMARY KEY)")
        let resolver = try resolver(folder, [("pg", "cache", fields)])
        let queries = Mutex<[String]>([])
        var options = DiscoveryOptions(connection: "@pg.cache", tables: ["\(schema).*"], cacheDirectory: folder.path + "/cache")
        options.onQuery = { sql in queries.withLock { $0.append(sql) } }
        func run() throws -> (DiscoveryOutcome, Int) {
            queries.withLock { $0 = [] }
            let outcome = try Discovery.run(options, resolver: resolver, masker: SecretMasker())
            return (outcome, queries.withLock { $0.count })
        }
        let (first, firstQueries) = try run()
        #expect(!first.fromCache && firstQueries == 8)  // BEGIN + hash, then BEGIN + 5 catalog queries
        let (second, secondQueries) = try run()
        #expect(second.fromCache && secondQueries == 2 && second.bytes == first.bytes)
        try admin.execute("ALTER TABLE \(schema).t ADD COLUMN note text")
        let (third, thirdQueries) = try run()
        #expect(!third.fromCache && thirdQueries == 8)
        #expect(String(decoding: third.bytes, as: UTF8.self).contains("\"name\":\"note\""))
        // Row estimates are not structure: ANALYZE keeps the cache; a comment or a type change does not.
        try admin.execute("INSERT INTO \(schema).t VALUES (1, 'a'); ANALYZE \(schema).t")
        #expect(try run().0.fromCache)
        try admin.execute("COMMENT ON TABLE \(schema).t IS 'things'")
        #expect(!(try run().0.fromCache))
        try admin.execute("ALTER TABLE \(schema).t ALTER COLUMN note TYPE varchar(20)")
        let (retyped, _) = try run()
        #expect(!retyped.fromCache && String(decoding: retyped.bytes, as: UTF8.self).contains("character varying(20)"))
        #expect(try run().0.fromCache)
        let cached = try FileManager.default.contentsOfDirectory(atPath: folder.path + "/cache")
        for file in cached {
            let text = try String(contentsOfFile: folder.path + "/cache/" + file, encoding: .utf8)
            #expect(!text.contains(fields["password"]?.stringValue ?? "-"))
        }
    }
}
