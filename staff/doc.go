// Package staff is who works the queue: staff accounts with their roles,
// password hashing, session tokens and API keys for integrations. Only
// hashes of passwords, tokens and keys are ever stored.
package staff
