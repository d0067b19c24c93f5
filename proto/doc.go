// Package proto is the contract of the bus: the msgpack payload types every
// stage exchanges, the subjects they travel on, and the streams and key-value
// buckets that hold them. Every stage imports this one definition; nothing
// else defines a subject or a payload.
//
// Every payload carries a schema version (field "v"); a decoder refuses a
// version newer than it knows, so a rolling upgrade never misreads a message.
package proto
