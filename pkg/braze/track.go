package braze

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// MaxTrackObjects is the most objects one POST /users/track takes,
// attributes, events and purchases together (Braze's docs; older contracts
// allowed 75 per array).
const MaxTrackObjects = 75

// MaxEmailsPerStatus is the most addresses one /email/status or
// /subscription/status/set call takes.
const MaxEmailsPerStatus = 50

// MaxDeletePerCall is the most users one /users/delete call takes.
const MaxDeletePerCall = 50

// Rate-limit buckets of the write endpoints (API notes).
const (
	bucketTrack        = "users.track"
	bucketSubscription = "subscription.status"
	bucketIdentity     = "users.identity"
)

// UserAlias names a user by alias.
type UserAlias struct {
	Name  string `json:"alias_name"`
	Label string `json:"alias_label"`
}

// Attributes is one user attributes object: the user (ExternalID, else
// Alias, else BrazeID) and the fields to set (standard or custom; nil
// unsets). With an Alias, a user that does not exist is created
// (_update_existing_only false).
type Attributes struct {
	ExternalID string
	Alias      *UserAlias
	BrazeID    string
	Fields     map[string]any
}

func (a Attributes) object() (map[string]any, error) {
	o := make(map[string]any, len(a.Fields)+2)
	for k, v := range a.Fields {
		switch k {
		case "external_id", "user_alias", "braze_id", "_update_existing_only":
			return nil, fmt.Errorf("%s is an identifier, not a field", k)
		}
		o[k] = v
	}
	switch {
	case a.ExternalID != "":
		o["external_id"] = a.ExternalID
	case a.Alias != nil:
		o["user_alias"] = a.Alias
		o["_update_existing_only"] = false
	case a.BrazeID != "":
		o["braze_id"] = a.BrazeID
	default:
		return nil, errors.New("the user has no external_id, alias or braze_id")
	}
	return o, nil
}

// TrackError is one object Braze refused in a partially successful
// /users/track: Index is its position in Attributes.
type TrackError struct {
	Type       string `json:"type"`
	InputArray string `json:"input_array"`
	Index      int    `json:"index"`
}

// TrackResult is Braze's answer to a /users/track that was accepted: the
// objects not named in Errors were processed.
type TrackResult struct {
	AttributesProcessed int          `json:"attributes_processed"`
	Errors              []TrackError `json:"errors"`
}

// TrackAttributes writes up to MaxTrackObjects attributes objects in one
// POST /users/track. An answer with errors[] is a success for the other
// objects (TrackResult.Errors names the refused ones); a 4xx/5xx is an
// error for all of them (*APIError; a 400 that lists errors names them in
// its Errors too, by index).
func (c *Client) TrackAttributes(ctx context.Context, users []Attributes) (TrackResult, error) {
	if len(users) == 0 || len(users) > MaxTrackObjects {
		return TrackResult{}, fmt.Errorf("braze: tracking %d users: 1 to %d objects a request", len(users), MaxTrackObjects)
	}
	objs := make([]map[string]any, len(users))
	for i, u := range users {
		o, err := u.object()
		if err != nil {
			return TrackResult{}, fmt.Errorf("braze: tracking user %d of %d: %w", i, len(users), err)
		}
		objs[i] = o
	}
	var out TrackResult
	err := c.do(ctx, apiCall{method: http.MethodPost, path: "/users/track",
		body: map[string]any{"attributes": objs}, bucket: bucketTrack}, &out)
	if err != nil {
		return TrackResult{}, err
	}
	return out, nil
}

// SetEmailSubscription sets the email subscription state (subscribed,
// unsubscribed, opted_in) of up to MaxEmailsPerStatus addresses with POST
// /email/status.
func (c *Client) SetEmailSubscription(ctx context.Context, state string, emails []string) error {
	if len(emails) == 0 || len(emails) > MaxEmailsPerStatus {
		return fmt.Errorf("braze: setting the email subscription of %d addresses: 1 to %d a request", len(emails), MaxEmailsPerStatus)
	}
	return c.do(ctx, apiCall{method: http.MethodPost, path: "/email/status",
		body: map[string]any{"email": emails, "subscription_state": state}, bucket: bucketDefault}, nil)
}

// SetSubscriptionGroup sets the state (subscribed, unsubscribed) of up to
// MaxEmailsPerStatus addresses in a subscription group with POST
// /subscription/status/set.
func (c *Client) SetSubscriptionGroup(ctx context.Context, groupID, state string, emails []string) error {
	if groupID == "" || len(emails) == 0 || len(emails) > MaxEmailsPerStatus {
		return fmt.Errorf("braze: setting subscription group %q for %d addresses: a group and 1 to %d addresses", groupID, len(emails), MaxEmailsPerStatus)
	}
	return c.do(ctx, apiCall{method: http.MethodPost, path: "/subscription/status/set",
		body: map[string]any{"subscription_group_id": groupID, "subscription_state": state, "email": emails}, bucket: bucketSubscription}, nil)
}

// DeleteUsers deletes up to MaxDeletePerCall users named by external id,
// alias or braze_id with POST /users/delete (the key needs users.delete).
func (c *Client) DeleteUsers(ctx context.Context, externalIDs []string, aliases []UserAlias, brazeIDs []string) (int, error) {
	n := len(externalIDs) + len(aliases) + len(brazeIDs)
	if n == 0 || n > MaxDeletePerCall {
		return 0, fmt.Errorf("braze: deleting %d users: 1 to %d a request", n, MaxDeletePerCall)
	}
	body := map[string]any{}
	if len(externalIDs) > 0 {
		body["external_ids"] = externalIDs
	}
	if len(aliases) > 0 {
		body["user_aliases"] = aliases
	}
	if len(brazeIDs) > 0 {
		body["braze_ids"] = brazeIDs
	}
	var out struct {
		Deleted int `json:"deleted"`
	}
	if err := c.do(ctx, apiCall{method: http.MethodPost, path: "/users/delete", body: body, bucket: bucketIdentity}, &out); err != nil {
		return 0, err
	}
	return out.Deleted, nil
}
