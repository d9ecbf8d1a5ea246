import Core
import Foundation
import Logging
import Storage

extension IdentityService {
    /// Reads the whole directory and applies it to the realm in one transaction: new entries become
    /// users, renamed or moved ones keep their identity, entries gone are disabled with their sessions
    /// ended, returning ones are enabled again, group memberships follow the directory. A directory
    /// that cannot be read changes nothing (an outage never looks like an empty directory).
    @discardableResult
    public func syncDirectory(_ id: String, in realm: Realm) async throws -> Directory.SyncReport {
        let row = try await directoryRow(id, in: realm)
        let started = clock.nowMillis()
        let client = DirectoryClient(settings: row.directory.settings, bindSecret: try openDirectorySecret(row))
        let snapshot: DirectorySnapshot
        do {
            snapshot = try await workers.run { try client.snapshot() }
        } catch let error as LDAPError {
            let outcome: Directory.SyncReport.Outcome = if case .unreachable = error { .unreachable } else { .refused }
            let report = Directory.SyncReport(outcome: outcome, message: error.description, startedAt: started, finishedAt: clock.nowMillis())
            try await record(report, directoryID: id)
            logger.warning("directory sync changed nothing: \(error)", metadata: ["realm": .string(realm.name), "directory": .string(row.directory.name)])
            return report
        }
        let directory = row.directory
        let now = clock.nowMillis()
        let (report, ended) = try await database.write { connection -> (Directory.SyncReport, [String]) in
            var applier = try DirectoryApplier(directory: directory, realm: realm, now: now, on: connection, preload: true)
            var report = Directory.SyncReport(outcome: .ok, startedAt: started, finishedAt: now, users: snapshot.users.count)
            var seen: Set<String> = []
            var skipped: [String] = []
            for entry in snapshot.users where seen.insert(entry.externalID).inserted {
                let (change, _, problem) = try applier.apply(entry)
                switch change {
                case .created: report.created += 1
                case .updated: report.updated += 1
                case .enabled: report.enabled += 1
                case .unchanged: break
                case .skipped: skipped.append(problem ?? entry.username)
                }
                if problem != nil { report.problems += 1 }
            }
            let gone = try connection.query("SELECT id, external_id FROM users WHERE directory_id = ? AND enabled = 1", [.text(directory.id)])
                .filter { !seen.contains(try $0.string("external_id")) }.map { try $0.string("id") }
            let ended = try applier.disable(gone)
            report.disabled = gone.count
            if !skipped.isEmpty {
                report.message = "not imported: " + skipped.prefix(20).joined(separator: "; ") + (skipped.count > 20 ? " (and \(skipped.count - 20) more)" : "")
            }
            report.finishedAt = now
            try Self.record(report, directoryID: directory.id, on: connection)
            return (report, ended)
        }
        await invalidateAllBindings()
        await endSessions(ended)
        logger.info("directory synced", metadata: ["realm": .string(realm.name), "directory": .string(directory.name),
                                                   "created": .stringConvertible(report.created), "disabled": .stringConvertible(report.disabled)])
        return report
    }

    /// The directories whose import sync is due at `now` (never synced, or their interval has passed), by realm.
    public func directoriesDue(at now: Int64) async throws -> [(realm: Realm, directory: Directory)] {
        let rows = try await database.read { try $0.query(DirectoryRow.self, "SELECT * FROM directories WHERE enabled = 1") }
        return rows.compactMap { row in
            let directory = row.directory
            guard directory.settings.mode == .import, let realm = realm(id: directory.realmId) else { return nil }
            let last = directory.lastSync?.startedAt ?? 0
            return now - last >= Int64(directory.settings.syncIntervalSeconds) * 1000 ? (realm, directory) : nil
        }
    }

    private func record(_ report: Directory.SyncReport, directoryID: String) async throws {
        try await database.write { try Self.record(report, directoryID: directoryID, on: $0) }
    }

    private static func record(_ report: Directory.SyncReport, directoryID: String, on connection: any SQLConnection) throws {
        let text = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        try connection.execute("UPDATE directories SET last_sync = ?, last_sync_at = ? WHERE id = ?", [.text(text), .integer(report.startedAt), .text(directoryID)])
    }

    // MARK: Sign-in

    /// Checks a password against the realm's directories: the user's own directory for a directory
    /// user; each enabled directory in turn for a username the realm does not know yet (the first that
    /// has the entry decides). A match refreshes the user from the entry (created on first sign-in,
    /// groups as the directory has them now). Nil: no directory has the user, or the password is wrong.
    func directorySignIn(username: String, password: String, known: User?, realm: Realm) async throws -> User? {
        let rows = try await database.read {
            try $0.query(DirectoryRow.self, "SELECT * FROM directories WHERE realm_id = ? AND enabled = 1 ORDER BY name", [.text(realm.id)])
        }
        let candidates = rows.filter { known?.directoryId == nil || $0.directory.id == known?.directoryId }
        var unreachable: LDAPError?
        for row in candidates {
            let client = DirectoryClient(settings: row.directory.settings, bindSecret: try openDirectorySecret(row))
            let answer: (user: DirectorySnapshot.User, passwordMatches: Bool)?
            do {
                answer = try await workers.run { try client.authenticate(username: username, password: password) }
            } catch let error as LDAPError {
                logger.warning("directory unreachable at sign-in: \(error)", metadata: ["realm": .string(realm.name), "directory": .string(row.directory.name)])
                unreachable = error
                continue
            }
            guard let answer else { continue }
            guard answer.passwordMatches else { return nil }
            let directory = row.directory
            let now = clock.nowMillis()
            let userID = try await database.write { connection -> String? in
                var applier = try DirectoryApplier(directory: directory, realm: realm, now: now, on: connection, preload: false)
                return try applier.apply(answer.user).userID
            }
            guard let userID else { return nil }
            await invalidateBindings(of: userID)
            return try await database.read { try $0.queryFirst(User.self, "SELECT * FROM users WHERE id = ?", [.text(userID)]) }
        }
        if let unreachable { throw IAMError.directoryUnavailable(unreachable.description) }
        return nil
    }
}
