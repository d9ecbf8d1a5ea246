import Core
import Logging

/// Installs the process's log handler once: human-readable on stderr, or JSON lines on stdout.
enum LogSetup {
    static func logger(format: String, level: String) -> Logger {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "metalplane")
        logger.logLevel = logLevel
        return logger
    }
}
