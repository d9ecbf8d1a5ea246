import NIOConcurrencyHelpers
import Core
import Logging

/// Installs the process's log handler once: human-readable on stderr, or JSON lines on stdout.
enum LogSetup {
    /// Whether the logging system is set up: it may be only once per process.
    private static let bootstrapped = NIOLockedValueBox(false)

    /// The process's logger; the first call sets up the logging system (format and level), later calls reuse it.
    static func logger(format: String, level: String) -> Logger {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        let first = bootstrapped.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { bootstrap(format: format, level: logLevel) }
        var logger = Logger(label: "metalplane")
        logger.logLevel = logLevel
        return logger
    }

    private static func bootstrap(format: String, level logLevel: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
    }
}
