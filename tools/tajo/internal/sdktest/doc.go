// Package sdktest runs the @tajo/sdk TypeScript client (tools/sdk-js),
// built with its own tsc, through the product page's five examples against
// `tajo run --sandbox` serving its gateway, with real Node.
package sdktest
