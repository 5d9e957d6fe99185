import Foundation
import OML
import OsirisCore
@testable import OsirisDiscovery
@testable import OsirisDrivers
import Synchronization
import Testing

/// Discovery against the real PostgreSQL server of `scripts/with-servers`: a fixture database with
/// several schemas, composite and cross-schema keys, views, quoted mixed-case names and every type.
@Suite(.serialized, .enabled(if: TestServers.postgres, "needs OSIRIS_TEST_PG_URL (run under scripts/with-servers)"))
struct PostgreSQLDiscoveryTests {
    /// The fixture database: its own, so tables other tests create never show in the golden.
    static let database = "osiris_discovery_fixture"

    static let fixture = """
        CREATE SCHEMA sales;
        CREATE SCHEMA "Inventory";
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
        CREATE TABLE public.customers (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL,
            "DisplayName" varchar(80),
            created_at timestamptz NOT NULL DEFAULT now());
        COMMENT ON TABLE public.customers IS 'people who buy';
        COMMENT ON COLUMN public.customers.email IS 'login e-mail';
        CREATE TABLE "Inventory"."Products" (
            "SKU" text, "Region" char(2), price numeric(12,2) NOT NULL DEFAULT 0, PRIMARY KEY ("SKU", "Region"));
        CREATE TABLE sales.orders (
            id serial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES public.customers (id), placed date);
        CREATE TABLE sales.order_lines (
            order_id integer REFERENCES sales.orders (id), line smallint, sku text, region char(2), qty positive_int,
            PRIMARY KEY (order_id, line),
            FOREIGN KEY (sku, region) REFERENCES "Inventory"."Products" ("SKU", "Region"));
        CREATE TABLE public.all_types (
            b boolean, i2 smallint, i4 integer, i8 bigint, r real, d double precision, n numeric, n2 numeric(10,3),
            t text, vc varchar(10), c char(3), dt date, tm time, ts timestamp, tstz timestamptz, j json, jb jsonb,
            u uuid, by bytea, iv interval, arr integer[], m mood, g integer GENERATED ALWAYS AS (i4 * 2) STORED);
        CREATE VIEW sales.big_orders AS SELECT id, customer_id FROM sales.orders WHERE id > 10;
        CREATE MATERIALIZED VIEW public.customer_count AS SELECT count(*) AS n FROM public.customers;
        INSERT INTO public.customers (email) VALUES ('a@example.com'), ('b@example.com');
        ANALYZE;
        """

    /// Creates the fixture database afresh and returns a resolver naming it `@pg.fixture`.
    static func prepare(_ folder: TemporaryFolder, masker: SecretMasker = SecretMasker()) throws -> ConnectionResolver {
        let admin = try PostgreSQLConnection(
            ResolvedConnection(reference: "@pg.test", family: "postgres", fields: TestServers.postgresFields()), masker: masker)
        try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        try admin.execute("CREATE DATABASE \(database)")
        let fixture = try PostgreSQLConnection(
            ResolvedConnection(reference: "@pg.fixture", family: "postgres", fields: TestServers.postgresFields(database: database)),
            masker: masker)
        try fixture.execute(Self.fixture)
        return try resolver(folder, [("pg", "fixture", TestServers.postgresFields(database: database))], masker: masker)
    }

    @Test func columnsSnapshotEqualsTheGolden() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let first = try Discovery.run(DiscoveryOptions(connection: "@pg.fixture"), resolver: resolver, masker: SecretMasker())
        // Row estimates are the server's guesses: the golden holds none; the analyzed 2-row table's is exact.
        var snapshot = try Snapshot.decode(first.bytes, path: "-")
        #expect(snapshot.tables.first { $0.name == "customers" }?.rowEstimate == 2)
        #expect(snapshot.tables.first { $0.name == "big_orders" }?.rowEstimate == nil)
        for index in snapshot.tables.indices { snapshot.tables[index].rowEstimate = nil }
        try expectGolden(withoutServerVersion(JSONWriter.line(snapshot.json)), "postgres-columns.json")
        let second = try Discovery.run(DiscoveryOptions(connection: "@pg.fixture"), resolver: resolver, masker: SecretMasker())
        #expect(second.bytes == first.bytes)
        #expect(snapshot.tables.count == 7)
        #expect(snapshot.serverVersion?.first?.isNumber == true)
    }

    @Test func tablesDepthAndPatterns() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let outcome = try Discovery.run(
            DiscoveryOptions(connection: "@pg.fixture", depth: .tables, tables: ["sales.*", "Products"]), resolver: resolver,
            masker: SecretMasker())
        var snapshot = try Snapshot.decode(outcome.bytes, path: "-")
        for index in snapshot.tables.indices { snapshot.tables[index].rowEstimate = nil }
        try expectGolden(withoutServerVersion(JSONWriter.line(snapshot.json)), "postgres-tables.json")
    }

    @Test func catalogQueriesDoNotGrowWithTheTables() throws {
        let folder = TemporaryFolder()
        let resolver = try Self.prepare(folder)
        let queries = Mutex<[String]>([])
        var options = DiscoveryOptions(connection: "@pg.fixture")
        options.onQuery = { sql in queries.withLock { $0.append(sql) } }
        _ = try Discovery.run(options, resolver: resolver, masker: SecretMasker())
        let before = queries.withLock { $0.count }
        // BEGIN, identity, tables, columns, primary keys, foreign keys.
        #expect(before == 6)
        let more = try PostgreSQLConnection(
            ResolvedConnection(reference: "@pg.fixture", family: "postgres", fields: TestServers.postgresFields(database: Self.database)),
            masker: SecretMasker())
        for index in 0..<20 {
            try more.execute("CREATE TABLE sales.extra_\(index) (id int PRIMARY KEY, order_id int REFERENCES sales.orders (id))")
        }
        _ = try Discovery.run(options, resolver: resolver, masker: SecretMasker())
        #expect(queries.withLock { $0.count } == 2 * before)
        #expect(queries.withLock { $0.allSatisfy { !$0.contains("extra_") } })
    }

    @Test func badPasswordIs77AndNeverShown() throws {
        let folder = TemporaryFolder()
        var fields = TestServers.postgresFields()
        fields["password"] = "wrong-Secret-4711"
        let masker = SecretMasker()
        let resolver = try resolver(folder, [("pg", "bad", fields)], masker: masker)
        #expect {
            try Discovery.run(DiscoveryOptions(connection: "@pg.bad"), resolver: resolver, masker: masker)
        } throws: { error in
            let error = error as! DiscoveryError
            return error.exitStatus == .permissionDenied && !error.message.contains("wrong-Secret-4711")
                && error.message.contains("@pg.bad")
        }
    }
}
