import Foundation

/// One backup at a time across processes (the controller's schedule, the cron job, an operator):
/// an exclusive `flock` on a file in the data directory, released when the holder ends or dies.
public final class BackupLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Takes the lock without waiting; `BackupError.busy` names the holder when it is taken.
    public static func acquire(at path: String, holder: String) throws -> BackupLock {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupError.io("cannot open the backup lock \(path): errno \(errno)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let current = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw BackupError.busy(current.isEmpty ? "another process" : current)
        }
        ftruncate(descriptor, 0)
        _ = holder.withCString { write(descriptor, $0, strlen($0)) }
        return BackupLock(descriptor: descriptor)
    }

    public func release() {
        ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
