// Herald from Go with the standard library only (Go 1.21 or later).
//
//   - MintToken: an HS256 connection token (the claims of docs/protocol.md "JWT claims")
//   - Publish: POST /v1/publish with an idempotency id, retried on 503 / 429 / 502 / 504, timeouts
//     and network errors with the same id, honouring Retry-After (bounded attempts and time,
//     full-jitter backoff)
//   - VerifyWebhook: a Standard-Webhooks-style signature
//     (webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">)
//
// Run: HERALD_API=http://127.0.0.1:8080 HERALD_API_KEY=... HERALD_JWT_SECRET=... go run .
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mathrand "math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// MintToken signs a JWT (HS256) with sub, iat, exp and, when given, topics.
func MintToken(secret, sub string, topics []string, ttl time.Duration) (string, error) {
	now := time.Now().Unix()
	claims := map[string]any{"sub": sub, "iat": now, "exp": now + int64(ttl/time.Second)}
	if topics != nil {
		claims["topics"] = topics
	}
	header, err := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signingInput))
	return signingInput + "." + enc.EncodeToString(mac.Sum(nil)), nil
}

// APIError is the publish API's error answer; Code is the wire code (invalid_target, bus_unavailable, ...).
type APIError struct {
	Status   int
	Code     string
	Message  string
	Attempts int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("herald: %d %s: %s (%d attempts)", e.Status, e.Code, e.Message, e.Attempts)
}

// Message is a publish body: exactly one of Topic, Topics, User, Users; Data any JSON value.
type Message struct {
	Topic  string   `json:"topic,omitempty"`
	Topics []string `json:"topics,omitempty"`
	User   string   `json:"user,omitempty"`
	Users  []string `json:"users,omitempty"`
	Data   any      `json:"data"`
	ID     string   `json:"id,omitempty"`
}

// PublishResult is the answer: one entry per target channel, plus the idempotency id used.
type PublishResult struct {
	ID      string `json:"-"`
	Results []struct {
		Ch        string `json:"ch"`
		Seq       int64  `json:"seq"`
		Duplicate bool   `json:"duplicate,omitempty"`
	} `json:"results"`
}

// Client publishes with retries. The zero values of the bounds take the defaults below.
type Client struct {
	API         string // e.g. http://127.0.0.1:8080
	Key         string // one of HERALD_API_KEYS
	HTTP        *http.Client
	Timeout     time.Duration // per attempt; default 10 s
	MaxAttempts int           // default 5
	MaxElapsed  time.Duration // default 30 s
	BaseDelay   time.Duration // default 200 ms
	MaxDelay    time.Duration // default 5 s
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func retryable(status int) bool {
	return status == 429 || status == 502 || status == 503 || status == 504
}

// Publish sends msg to POST /v1/publish. An id is added when msg has none and kept across retries,
// so a retry after a 503 or a timeout stores the message once.
func (c *Client) Publish(ctx context.Context, msg Message) (*PublishResult, error) {
	if msg.ID == "" {
		msg.ID = newID()
	}
	body, err := json.Marshal(msg) // the same bytes on every attempt
	if err != nil {
		return nil, err
	}
	httpClient := c.HTTP
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	maxAttempts := orDefault(c.MaxAttempts, 5)
	maxElapsed := orDefault(c.MaxElapsed, 30*time.Second)
	started := time.Now()
	for attempt := 1; ; attempt++ {
		result, retryAfter, failure := c.attempt(ctx, httpClient, body)
		if failure == nil {
			result.ID = msg.ID
			return result, nil
		}
		var apiErr *APIError
		if errors.As(failure, &apiErr) {
			apiErr.Attempts = attempt
			if !retryable(apiErr.Status) {
				return nil, failure
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Full jitter, never shorter than the server's Retry-After; give up past the bounds.
		ceiling := math.Min(float64(orDefault(c.MaxDelay, 5*time.Second)), float64(orDefault(c.BaseDelay, 200*time.Millisecond))*math.Pow(2, float64(attempt-1)))
		delay := time.Duration(mathrand.Float64() * ceiling)
		if retryAfter > delay {
			delay = retryAfter
		}
		if attempt >= maxAttempts || time.Since(started)+delay > maxElapsed {
			return nil, failure
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// attempt sends one request. It returns the result, or the Retry-After of a refusal and the error.
func (c *Client) attempt(ctx context.Context, httpClient *http.Client, body []byte) (*PublishResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.Timeout, 10*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.API, "/")+"/v1/publish", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("authorization", "Bearer "+c.Key)
	req.Header.Set("content-type", "application/json")
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, 0, err // network error or timeout: retried
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, 0, err
	}
	if res.StatusCode == http.StatusOK {
		var result PublishResult
		if err := json.Unmarshal(raw, &result); err != nil {
			return nil, 0, err
		}
		return &result, 0, nil
	}
	apiErr := &APIError{Status: res.StatusCode, Code: "unexpected_response", Message: res.Status}
	var answer struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &answer) == nil && answer.Error.Code != "" {
		apiErr.Code, apiErr.Message = answer.Error.Code, answer.Error.Message
	}
	var retryAfter time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("retry-after"))); err == nil && s >= 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return nil, retryAfter, apiErr
}

// webhookKey: Standard Webhooks secrets are "whsec_" + base64 of the key; any other string is used as its bytes.
func webhookKey(secret string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		return base64.StdEncoding.DecodeString(rest)
	}
	return []byte(secret), nil
}

// VerifyWebhook reports whether one of the header's "v1,<base64>" signatures is
// HMAC-SHA256(key, id + "." + timestamp + "." + body) and the timestamp is within tolerance of now.
func VerifyWebhook(secret, id, timestamp, signatureHeader string, body []byte, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if age := time.Since(time.Unix(ts, 0)); age > tolerance || age < -tolerance {
		return false
	}
	key, err := webhookKey(secret)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	expected := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, part := range strings.Split(signatureHeader, " ") {
		version, sig, ok := strings.Cut(part, ",")
		if ok && version == "v1" && hmac.Equal([]byte(sig), expected) {
			return true
		}
	}
	return false
}

// WebhookHandler checks the signature of each delivery before reading it.
func WebhookHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if !VerifyWebhook(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body, 5*time.Minute) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent) // answer fast; handle the event (deduplicated by webhook-id) elsewhere
	})
}

func main() {
	api, key, secret := os.Getenv("HERALD_API"), os.Getenv("HERALD_API_KEY"), os.Getenv("HERALD_JWT_SECRET")
	if api == "" || key == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "set HERALD_API, HERALD_API_KEY and HERALD_JWT_SECRET")
		os.Exit(2)
	}
	token, err := MintToken(secret, "42", []string{"news", "orders.>"}, time.Hour)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("token for user 42:", token)

	client := &Client{API: api, Key: key}
	result, err := client.Publish(context.Background(), Message{User: "42", Data: map[string]any{"order": 981, "status": "shipped"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("published %s: %+v\n", result.ID, result.Results)
}
