package packets

import "github.com/netmessage-go/netmessage/netmessage"

// Greet asks the server for a greeting; an empty Name is refused with
// netmessage.CodeInvalidArgument.
type Greet struct {
	netmessage.Returns[Greeting]
	Name string
}

// Greeting answers a Greet.
type Greeting struct{ Text string }

// Question is answered by the server after it asks the client for a Hint.
type Question struct {
	netmessage.Returns[Answer]
}

// Answer answers a Question or a Hint.
type Answer struct{ Text string }

// Hint is what the server asks the client while it answers a Question.
type Hint struct {
	netmessage.Returns[Answer]
}

// Note is a one-way message from the client.
type Note struct{ Text string }

// IDs gives the packets short type ids.
func IDs() netmessage.Option {
	return netmessage.Combine(
		netmessage.WithTypeID[Greet]("demo.Greet"),
		netmessage.WithTypeID[Greeting]("demo.Greeting"),
		netmessage.WithTypeID[Question]("demo.Question"),
		netmessage.WithTypeID[Answer]("demo.Answer"),
		netmessage.WithTypeID[Hint]("demo.Hint"),
		netmessage.WithTypeID[Note]("demo.Note"),
	)
}
