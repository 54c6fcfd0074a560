import type { ProfileResponse } from '@finchat/protocol'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, RequestError } from '../api/http-api.js'

type Errors = Record<string, string[]>

function Field(props: {
  name: string
  label: string
  type?: string
  autocomplete: string
  errors: Errors
  required?: boolean
  inputRef?: preact.Ref<HTMLInputElement>
}) {
  const id = `field-${props.name}`
  const problems = props.errors[props.name]
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        autocomplete={props.autocomplete}
        required={props.required ?? true}
        aria-invalid={problems ? 'true' : undefined}
        aria-describedby={problems ? `${id}-errors` : undefined}
        ref={props.inputRef}
      />
      {problems && (
        <ul class="field-errors" id={`${id}-errors`}>
          {problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** The login form, and the register form that logs the new user in. */
export function AuthView(props: { onSignedIn(profile: ProfileResponse): void }) {
  const [mode, setMode] = useState<'login' | 'register'>('login')
  const [errors, setErrors] = useState<Errors>({})
  const [busy, setBusy] = useState(false)
  const first = useRef<HTMLInputElement>(null)
  useEffect(() => first.current?.focus(), [mode])

  async function submit(event: Event) {
    event.preventDefault()
    const data = new FormData(event.currentTarget as HTMLFormElement)
    const value = (name: string) => String(data.get(name) ?? '')
    setBusy(true)
    setErrors({})
    try {
      if (mode === 'register') {
        if (value('password') !== value('confirm')) {
          setErrors({ confirm: ['The two passwords differ.'] })
          return
        }
        await api.register(value('username'), value('email'), value('password'))
      }
      props.onSignedIn(await api.logIn(value('username'), value('password')))
    } catch (error) {
      setErrors(
        error instanceof RequestError ? error.fields : { non_field_errors: [String(error)] },
      )
    } finally {
      setBusy(false)
    }
  }

  const general = errors.non_field_errors
  return (
    <main class="auth">
      <h1>Financial Chat</h1>
      <form onSubmit={submit} aria-labelledby="auth-title" noValidate={false}>
        <h2 id="auth-title">{mode === 'login' ? 'Log in' : 'Create an account'}</h2>
        {general && (
          <p class="form-error" role="alert">
            {general.join(' ')}
          </p>
        )}
        <Field
          name="username"
          label="Username"
          autocomplete="username"
          errors={errors}
          inputRef={first}
        />
        {mode === 'register' && (
          <Field
            name="email"
            label="Email"
            type="email"
            autocomplete="email"
            errors={errors}
            required={false}
          />
        )}
        <Field
          name="password"
          label="Password"
          type="password"
          autocomplete={mode === 'login' ? 'current-password' : 'new-password'}
          errors={errors}
        />
        {mode === 'register' && (
          <Field
            name="confirm"
            label="Confirm password"
            type="password"
            autocomplete="new-password"
            errors={errors}
          />
        )}
        <button type="submit" disabled={busy}>
          {mode === 'login' ? 'Log in' : 'Register'}
        </button>
      </form>
      <p class="switch">
        {mode === 'login' ? 'New here? ' : 'Already registered? '}
        <button
          type="button"
          class="link"
          onClick={() => {
            setErrors({})
            setMode(mode === 'login' ? 'register' : 'login')
          }}
        >
          {mode === 'login' ? 'Create an account' : 'Log in instead'}
        </button>
      </p>
    </main>
  )
}
