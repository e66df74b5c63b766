package logtogin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/logtogin"
)

// ExampleWrap protects a gin route with a ResourceServer: a request
// without a token gets the 401 the ResourceServer writes, and the route's
// handler does not run.
func ExampleWrap() {
	rs, _ := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint: "http://localhost:3001", Audience: "https://api.example.com",
	})
	r := gin.New()
	r.GET("/api/items", logtogin.Wrap(rs.Middleware("read:items")), func(c *gin.Context) {
		claims, _ := logto.AccessTokenFromContext(c.Request.Context())
		c.String(http.StatusOK, "items of %s", claims.Sub)
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/items", nil))
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="https://api.example.com"
}
